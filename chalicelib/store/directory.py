"""Tenants, console users and their per-workspace roles."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.access import Role
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.tenancy import Tenant, TenantId
from chalicelib.store.models import MembershipModel, TenantModel, UserModel
from chalicelib.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class UserRecord:
    username: str
    password_hash: str
    is_superuser: bool
    created_at: str
    created_by: str


@dataclass(frozen=True)
class Membership:
    tenant: TenantId
    username: str
    role: Role
    created_at: str
    created_by: str
    version: int | None = None

    def view(self) -> dict:
        return {
            "username": self.username,
            "appId": self.tenant.app_id,
            "workspaceId": self.tenant.workspace_id,
            "role": self.role.value,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
        }


# --- tenants -------------------------------------------------------------------------------------


def add_tenant(uow: UnitOfWork, tenant: Tenant) -> None:
    uow.save(
        TenantModel(
            tenant=tenant.id.key, name=tenant.name, created_at=tenant.created_at, created_by=tenant.created_by
        ),
        condition=TenantModel.tenant.does_not_exist(),
        on_conflict=Conflict(f"workspace {tenant.id} already exists"),
    )


def _tenant(tenant: TenantId, m: TenantModel) -> Tenant:
    return Tenant(
        id=tenant,
        name=m.name,
        created_at=m.created_at,
        created_by=m.created_by,
        time_zone=m.time_zone,
        lock_version=m.version,
    )


def get_tenant(tenant: TenantId) -> Tenant | None:
    try:
        m = TenantModel.get(tenant.key, consistent_read=True)
    except TenantModel.DoesNotExist:
        return None
    return _tenant(tenant, m)


def update_tenant(uow: UnitOfWork, before: Tenant, after: Tenant) -> None:
    """Optimistic: a concurrent change since ``before`` was read fails the commit (VersionConflict)."""
    model = TenantModel(
        tenant=after.id.key,
        name=after.name,
        created_at=after.created_at,
        created_by=after.created_by,
        time_zone=after.time_zone,
    )
    model.version = before.lock_version
    uow.save(model)


def get_tenants(keys: list[TenantId]) -> list[Tenant]:
    if not keys:
        return []
    found = {m.tenant: m for m in TenantModel.batch_get([k.key for k in keys])}
    return [_tenant(k, found[k.key]) for k in keys if k.key in found]


# --- users ---------------------------------------------------------------------------------------


def add_user(uow: UnitOfWork, user: UserRecord) -> None:
    uow.save(
        UserModel(
            username=user.username,
            password_hash=user.password_hash,
            is_superuser=user.is_superuser,
            created_at=user.created_at,
            created_by=user.created_by,
        ),
        condition=UserModel.username.does_not_exist(),
        on_conflict=Conflict(f"user {user.username} already exists"),
    )


def get_user(username: str) -> UserRecord | None:
    try:
        m = UserModel.get(username, consistent_read=True)
    except UserModel.DoesNotExist:
        return None
    return UserRecord(m.username, m.password_hash, bool(m.is_superuser), m.created_at, m.created_by)


# --- memberships ---------------------------------------------------------------------------------


def _membership(m: MembershipModel) -> Membership:
    return Membership(
        tenant=TenantId.from_key(m.tenant),
        username=m.username,
        role=Role(m.role),
        created_at=m.created_at,
        created_by=m.created_by,
        version=m.version,
    )


def add_membership(uow: UnitOfWork, membership: Membership) -> None:
    uow.save(
        MembershipModel(
            tenant=membership.tenant.key,
            username=membership.username,
            role=membership.role.value,
            created_at=membership.created_at,
            created_by=membership.created_by,
        ),
        condition=MembershipModel.username.does_not_exist(),
        on_conflict=Conflict(
            f"user {membership.username} is already a member of workspace {membership.tenant}"
        ),
    )


def set_role(uow: UnitOfWork, membership: Membership, role: Role) -> None:
    """Optimistic: fails with VersionConflict if the membership changed since it was read."""
    model = MembershipModel(
        tenant=membership.tenant.key,
        username=membership.username,
        role=membership.role.value,
        created_at=membership.created_at,
        created_by=membership.created_by,
        version=membership.version,
    )
    uow.update(model, [MembershipModel.role.set(role.value)])


def remove_membership(uow: UnitOfWork, membership: Membership) -> None:
    model = MembershipModel(
        tenant=membership.tenant.key, username=membership.username, version=membership.version
    )
    uow.delete(model)


def get_membership(tenant: TenantId, username: str) -> Membership:
    try:
        return _membership(MembershipModel.get(tenant.key, username, consistent_read=True))
    except MembershipModel.DoesNotExist:
        raise NotFound(f"user {username} not found in workspace {tenant}") from None


def memberships_of_user(username: str) -> list[Membership]:
    return [_membership(m) for m in MembershipModel.by_user.query(username)]


def members_of_tenant(tenant: TenantId) -> list[Membership]:
    return [_membership(m) for m in MembershipModel.query(tenant.key, consistent_read=True)]
