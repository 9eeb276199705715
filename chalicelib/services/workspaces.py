"""Workspaces (tenants) and the console users who work in them."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.access import Permission, Role, validate_password, validate_username
from chalicelib.domain.errors import Conflict, Forbidden
from chalicelib.domain.tenancy import Tenant, TenantId
from chalicelib.domain.text import checked_text
from chalicelib.security import passwords
from chalicelib.services import audit
from chalicelib.services.context import Call


def _tenant_view(t: Tenant, role: Role | None = None) -> dict[str, Any]:
    from chalicelib.domain.time_zones import DEFAULT_TIME_ZONE, utc_offset, zone

    name = t.time_zone or DEFAULT_TIME_ZONE
    view = {
        "appId": t.id.app_id,
        "workspaceId": t.id.workspace_id,
        "name": t.name,
        "timeZone": name,
        "utcOffset": utc_offset(zone(name)),
        "createdAt": t.created_at,
        "createdBy": t.created_by,
    }
    if role is not None:
        view["role"] = role.value
    return view


def create_workspace(call: Call, tenant: TenantId, *, name: str) -> dict[str, Any]:
    """Only platform superusers create workspaces; the creator becomes its first admin."""
    from chalicelib.store import directory
    from chalicelib.store.unit_of_work import UnitOfWork

    if not call.principal.is_superuser:
        raise Forbidden("only a platform administrator may create workspaces")
    record = Tenant(id=tenant, name=checked_text("name", name), created_at=call.at, created_by=call.actor)
    uow = UnitOfWork()
    directory.add_tenant(uow, record)
    directory.add_membership(
        uow,
        directory.Membership(
            tenant=tenant,
            username=call.principal.id,
            role=Role.ADMIN,
            created_at=call.at,
            created_by=call.actor,
        ),
    )
    uow.audit(
        audit.entry(call, tenant, "workspace.create", "workspace", str(tenant), after=_tenant_view(record))
    )
    uow.commit()
    return _tenant_view(record, Role.ADMIN)


def my_workspaces(call: Call) -> list[dict[str, Any]]:
    from chalicelib.store import directory

    roles = call.principal.roles
    return [_tenant_view(t, roles[t.id]) for t in directory.get_tenants(sorted(roles))]


def get_workspace(call: Call, tenant: TenantId) -> dict[str, Any]:
    from chalicelib.store import directory

    audit.check(call, tenant, Permission.READ, action="workspace.read")
    found = directory.get_tenant(tenant)
    if found is None:  # a role without a tenant: only possible mid-deletion
        from chalicelib.domain.errors import NotFound

        raise NotFound(f"workspace {tenant} not found")
    return _tenant_view(found, call.principal.role_in(tenant))


def create_user(call: Call, tenant: TenantId, *, username: str, password: str, role: str) -> dict[str, Any]:
    """A new console user who belongs to ``tenant`` with ``role``. Usernames are global."""
    from chalicelib.store import directory
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.ADMIN, action="user.create")
    username = validate_username(username)
    validate_password(password)
    parsed_role = Role.parse(role)
    uow = UnitOfWork()
    directory.add_user(
        uow,
        directory.UserRecord(
            username=username,
            password_hash=passwords.hash_password(password),
            is_superuser=False,
            created_at=call.at,
            created_by=call.actor,
        ),
    )
    membership = directory.Membership(
        tenant=tenant, username=username, role=parsed_role, created_at=call.at, created_by=call.actor
    )
    directory.add_membership(uow, membership)
    uow.audit(audit.entry(call, tenant, "user.create", "user", username, after=membership.view()))
    uow.commit()
    return {**membership.view(), "version": 1}


def list_users(call: Call, tenant: TenantId) -> list[dict[str, Any]]:
    from chalicelib.store import directory

    audit.check(call, tenant, Permission.ADMIN, action="user.list")
    return [{**m.view(), "version": m.version} for m in directory.members_of_tenant(tenant)]


def change_role(
    call: Call, tenant: TenantId, username: str, *, role: str, expected_version: int | None = None
) -> dict[str, Any]:
    """Optimistic: if ``expected_version`` is given it must match; either way a concurrent change
    between our read and our write makes this fail with VersionConflict (409)."""
    from chalicelib.domain.errors import VersionConflict
    from chalicelib.store import directory
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.ADMIN, action="user.update")
    new_role = Role.parse(role)
    current = directory.get_membership(tenant, username)
    if expected_version is not None and expected_version != current.version:
        raise VersionConflict(
            f"user {username} is at version {current.version}, not {expected_version}; reload"
        )
    if username == call.principal.id and new_role is not Role.ADMIN:
        raise Conflict("admins cannot remove their own admin role; ask another admin")
    uow = UnitOfWork()
    directory.set_role(uow, current, new_role)
    after = {**current.view(), "role": new_role.value}
    uow.audit(audit.entry(call, tenant, "user.update", "user", username, before=current.view(), after=after))
    uow.commit()
    return {**after, "version": (current.version or 0) + 1}


def remove_user(call: Call, tenant: TenantId, username: str) -> None:
    from chalicelib.store import directory
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.ADMIN, action="user.remove")
    current = directory.get_membership(tenant, username)
    if username == call.principal.id:
        raise Conflict("admins cannot remove themselves; ask another admin")
    uow = UnitOfWork()
    directory.remove_membership(uow, current)
    uow.audit(audit.entry(call, tenant, "user.remove", "user", username, before=current.view()))
    uow.commit()


def set_time_zone(call: Call, tenant: TenantId, time_zone: str) -> dict[str, Any]:
    """The zone times without one are read in (end times of grey windows, mPaaS's wire times); admins only.

    Raises:
        ValidationError: ``timeZone`` is not a known zone. NotFound: no such workspace.
    """
    from dataclasses import replace

    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.time_zones import check_time_zone
    from chalicelib.store import directory
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.ADMIN, action="workspace.update")
    name = check_time_zone(time_zone)
    before = directory.get_tenant(tenant)
    if before is None:
        raise NotFound(f"workspace {tenant} not found")
    after = replace(before, time_zone=name)
    uow = UnitOfWork()
    directory.update_tenant(uow, before, after)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "workspace.update",
            "workspace",
            str(tenant),
            before={"timeZone": _tenant_view(before)["timeZone"]},
            after={"timeZone": name},
        )
    )
    uow.commit()
    return _tenant_view(after, call.principal.role_in(tenant))


def time_zone(tenant: TenantId) -> Any:
    """The workspace's tzinfo (the default zone for a workspace that has none set)."""
    from chalicelib.domain.time_zones import zone
    from chalicelib.store import directory

    found = directory.get_tenant(tenant)
    return zone(found.time_zone if found else None)
