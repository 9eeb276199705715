"""Who may do what: roles per workspace, permissions per action, principals.

Roles are ordered: ``admin`` can do everything a ``release_manager`` can, who can do everything a
``viewer`` can. Each API operation declares the one permission it needs; ``authorize`` is the
single check.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

from chalicelib.domain.errors import Forbidden, NotFound, ValidationError
from chalicelib.domain.tenancy import TenantId


class Permission(enum.IntEnum):
    READ = 1  # see packages, tasks, whitelists, config, status
    RELEASE = 2  # change packages, tasks, whitelists, rules, config
    ADMIN = 3  # manage users, access keys; read the audit log


class Role(enum.StrEnum):
    VIEWER = "viewer"
    RELEASE_MANAGER = "release_manager"
    ADMIN = "admin"

    @property
    def grants(self) -> Permission:
        return _ROLE_GRANTS[self]

    def allows(self, permission: Permission) -> bool:
        return self.grants >= permission

    @classmethod
    def parse(cls, value: object, field_name: str = "role") -> Role:
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        allowed = ", ".join(r.value for r in cls)
        raise ValidationError(field_name, f"must be one of: {allowed}")


_ROLE_GRANTS = {
    Role.VIEWER: Permission.READ,
    Role.RELEASE_MANAGER: Permission.RELEASE,
    Role.ADMIN: Permission.ADMIN,
}


class PrincipalKind(enum.StrEnum):
    USER = "user"
    ACCESS_KEY = "access_key"
    SYSTEM = "system"  # MDS itself acting on a release (a guardrail, the rollout scheduler)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a console user (roles per workspace) or an AccessKey (one workspace)."""

    kind: PrincipalKind
    id: str
    roles: dict[TenantId, Role] = field(default_factory=dict)
    is_superuser: bool = False

    @property
    def actor(self) -> str:
        """How the audit log names this caller, e.g. ``user:alice`` or ``access_key:MDSAK...``."""
        return f"{self.kind.value}:{self.id}"

    def role_in(self, tenant: TenantId) -> Role | None:
        return self.roles.get(tenant)


def authorize(principal: Principal, tenant: TenantId, permission: Permission) -> Role:
    """Return the caller's role in ``tenant`` if it grants ``permission``.

    Raises:
        NotFound: the caller has no role in the tenant, so it must not learn that it exists.
        Forbidden: the caller's role there is too weak.
    """
    role = principal.role_in(tenant)
    if role is None:
        raise NotFound(f"workspace {tenant} not found")
    if not role.allows(permission):
        raise Forbidden(f"role {role.value} may not {permission.name.lower()} in workspace {tenant}")
    return role


_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{2,63}$")


def validate_username(value: object) -> str:
    if not isinstance(value, str) or not _USERNAME.match(value):
        raise ValidationError("username", "3-64 characters: lower-case letters, digits, '.', '_', '@' or '-'")
    return value


MIN_PASSWORD = 10
MAX_PASSWORD = 256


def validate_password(value: object, field_name: str = "password") -> str:
    if not isinstance(value, str):
        raise ValidationError(field_name, "must be a string")
    if not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise ValidationError(field_name, f"must be {MIN_PASSWORD}-{MAX_PASSWORD} characters long")
    return value
