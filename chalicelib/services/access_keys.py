"""AccessKey pairs for the OpenAPI and CI: created by admins, secret shown once, revocable."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.access import Permission, Role
from chalicelib.domain.access_keys import AccessKey, KeyStatus, new_key_id, new_secret
from chalicelib.domain.errors import NotFound
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.text import checked_text
from chalicelib.services import audit
from chalicelib.services.auth import seal_secret
from chalicelib.services.context import Call


def create_key(call: Call, tenant: TenantId, *, role: str, description: str = "") -> dict[str, Any]:
    """Returns the key's view plus ``accessKeySecret`` — the only time the secret is ever shown."""
    from chalicelib.store import access_keys
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.ADMIN, action="access_key.create")
    key = AccessKey(
        id=new_key_id(),
        tenant=tenant,
        role=Role.parse(role),
        description=checked_text("description", description, max_len=256) if description else "",
        status=KeyStatus.ACTIVE,
        created_at=call.at,
        created_by=call.actor,
    )
    secret = new_secret()
    uow = UnitOfWork()
    access_keys.add(uow, key, seal_secret(key.id, tenant.key, secret))
    uow.audit(audit.entry(call, tenant, "access_key.create", "access_key", key.id, after=key.public_view()))
    uow.commit()
    return {**key.public_view(), "accessKeySecret": secret}


def list_keys(call: Call, tenant: TenantId) -> list[dict[str, Any]]:
    from chalicelib.store import access_keys

    audit.check(call, tenant, Permission.ADMIN, action="access_key.list")
    return [k.public_view() for k in access_keys.list_for_tenant(tenant)]


def revoke_key(call: Call, tenant: TenantId, access_key_id: str) -> dict[str, Any]:
    from chalicelib.store import access_keys
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.ADMIN, action="access_key.revoke")
    stored = access_keys.get(access_key_id)
    if stored is None or stored.key.tenant != tenant:  # another tenant's key: never confirm it exists
        raise NotFound(f"access key {access_key_id} not found")
    revoked = stored.key.revoke(call.at)
    uow = UnitOfWork()
    access_keys.save_status(uow, stored, revoked)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "access_key.revoke",
            "access_key",
            revoked.id,
            before=stored.key.public_view(),
            after=revoked.public_view(),
        )
    )
    uow.commit()
    return revoked.public_view()
