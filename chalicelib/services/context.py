"""What every use case needs to know about the request it serves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.domain.access import Principal, PrincipalKind
from chalicelib.domain.time_zones import iso


@dataclass(frozen=True)
class Call:
    principal: Principal
    request_id: str
    source_ip: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def at(self) -> str:
        return iso(self.now)

    @property
    def epoch(self) -> int:
        """``now`` in whole epoch seconds (what task lifecycles and end times compare against)."""
        return int(self.now.timestamp())

    @property
    def actor(self) -> str:
        return self.principal.actor


SYSTEM = Principal(kind=PrincipalKind.USER, id="system", is_superuser=True)
