"""The audit log: every change (and every refused authenticated attempt), with secrets redacted."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

REDACTED = "***"
_SECRET_MARKERS = ("password", "secret", "private_key", "privatekey", "token", "ciphertext")


class Outcome(enum.StrEnum):
    OK = "ok"
    DENIED = "denied"


@dataclass(frozen=True)
class AuditEntry:
    """One change: who did what to which entity, when, and the state before and after."""

    tenant_key: str
    at: str  # ISO-8601 UTC with microseconds; sorts chronologically
    actor: str
    action: str  # e.g. "user.create", "access_key.revoke"
    entity_type: str
    entity_id: str
    request_id: str
    outcome: Outcome = Outcome.OK
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    source_ip: str | None = None
    detail: str | None = None

    def redacted(self) -> AuditEntry:
        return replace(self, before=redact(self.before), after=redact(self.after))


def redact(value: Any) -> Any:
    """Replace the value of every key that looks like a secret, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if _is_secret_key(k) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _is_secret_key(key: object) -> bool:
    lowered = str(key).lower().replace("-", "_")
    return any(marker in lowered for marker in _SECRET_MARKERS)
