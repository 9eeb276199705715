"""Tenants: mPaaS identifies an app by ``appId`` + ``workspaceId``; MDS keys everything under both."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.domain.errors import ValidationError

_ID_RULE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_ID_RULE_TEXT = "1-64 characters: letters, digits, '_' or '-', starting with a letter or digit"


@dataclass(frozen=True, order=True)
class TenantId:
    """One workspace of one app. ``key`` is the partition-key prefix of every item it owns."""

    app_id: str
    workspace_id: str

    @classmethod
    def parse(cls, app_id: str, workspace_id: str) -> TenantId:
        """Validate both parts. Raises ValidationError naming ``appId`` or ``workspaceId``."""
        for field, value in (("appId", app_id), ("workspaceId", workspace_id)):
            if not isinstance(value, str) or not _ID_RULE.match(value):
                raise ValidationError(field, _ID_RULE_TEXT)
        return cls(app_id, workspace_id)

    @classmethod
    def from_key(cls, key: str) -> TenantId:
        app_id, _, workspace_id = key.partition("#")
        return cls(app_id, workspace_id)

    @property
    def key(self) -> str:
        return f"{self.app_id}#{self.workspace_id}"

    def __str__(self) -> str:
        return f"{self.app_id}/{self.workspace_id}"


@dataclass(frozen=True)
class Tenant:
    id: TenantId
    name: str
    created_at: str
    created_by: str
    time_zone: str | None = None  # None: DEFAULT_TIME_ZONE (domain/time_zones.py)
    lock_version: int | None = None
