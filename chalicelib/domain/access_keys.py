"""AccessKey pairs: an ID and a secret bound to one workspace and one role, for the OpenAPI and CI."""

from __future__ import annotations

import enum
import secrets
import string
from dataclasses import dataclass, replace

from chalicelib.domain.access import Role
from chalicelib.domain.errors import Conflict
from chalicelib.domain.tenancy import TenantId

ID_PREFIX = "MDSAK"
_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits


class KeyStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True)
class AccessKey:
    id: str
    tenant: TenantId
    role: Role
    description: str
    status: KeyStatus
    created_at: str
    created_by: str
    revoked_at: str | None = None
    version: int | None = None

    def revoke(self, at: str) -> AccessKey:
        """Revoking is permanent; revoking twice is a conflict, not a silent success."""
        if self.status is KeyStatus.REVOKED:
            raise Conflict(f"access key {self.id} is already revoked")
        return replace(self, status=KeyStatus.REVOKED, revoked_at=at)

    @property
    def active(self) -> bool:
        return self.status is KeyStatus.ACTIVE

    def public_view(self) -> dict:
        return {
            "accessKeyId": self.id,
            "appId": self.tenant.app_id,
            "workspaceId": self.tenant.workspace_id,
            "role": self.role.value,
            "description": self.description,
            "status": self.status.value,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "revokedAt": self.revoked_at,
        }


def new_key_id() -> str:
    return ID_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(19))


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
