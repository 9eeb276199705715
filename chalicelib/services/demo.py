"""First start of a local stack: a demo workspace, a bootstrap admin and an AccessKey pair."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from chalicelib.domain.access import Principal, PrincipalKind, Role
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import access_keys, workspaces
from chalicelib.services.context import Call

DEMO_TENANT = TenantId("DEMO_APP", "default")
BOOTSTRAP_ADMIN = "admin"


def ensure_demo() -> dict[str, Any] | None:
    """Create the bootstrap admin (a platform superuser), the demo workspace and an admin AccessKey.

    Returns their credentials the first time; ``None`` when the admin already exists (the
    credentials were written to bootstrap.json on that first start and are never shown again).
    """
    from chalicelib.domain.errors import Conflict
    from chalicelib.security import passwords
    from chalicelib.store import directory
    from chalicelib.store.unit_of_work import UnitOfWork

    if directory.get_user(BOOTSTRAP_ADMIN) is not None:
        return None
    password = secrets.token_urlsafe(18)
    system = Call(
        principal=Principal(kind=PrincipalKind.USER, id="system", is_superuser=True),
        request_id=f"bootstrap-{uuid.uuid4()}",
    )
    uow = UnitOfWork()
    directory.add_user(
        uow,
        directory.UserRecord(
            username=BOOTSTRAP_ADMIN,
            password_hash=passwords.hash_password(password),
            is_superuser=True,
            created_at=system.at,
            created_by=system.actor,
        ),
    )
    try:
        uow.commit()
    except Conflict:  # another process bootstrapped at the same moment
        return None

    admin = Call(
        principal=Principal(kind=PrincipalKind.USER, id=BOOTSTRAP_ADMIN, is_superuser=True),
        request_id=system.request_id,
    )
    workspaces.create_workspace(admin, DEMO_TENANT, name="Demo app")
    admin = Call(
        principal=Principal(
            kind=PrincipalKind.USER, id=BOOTSTRAP_ADMIN, roles={DEMO_TENANT: Role.ADMIN}, is_superuser=True
        ),
        request_id=system.request_id,
    )
    key = access_keys.create_key(admin, DEMO_TENANT, role=Role.ADMIN.value, description="bootstrap key")
    return {
        "username": BOOTSTRAP_ADMIN,
        "password": password,
        "appId": DEMO_TENANT.app_id,
        "workspaceId": DEMO_TENANT.workspace_id,
        "accessKeyId": key["accessKeyId"],
        "accessKeySecret": key["accessKeySecret"],
    }
