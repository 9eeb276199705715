"""Building audit entries, recording refused attempts, and reading the log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.access import Permission, authorize
from chalicelib.domain.audit import AuditEntry, Outcome
from chalicelib.domain.errors import Forbidden, ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.time_zones import iso
from chalicelib.services.context import Call


def entry(
    call: Call,
    tenant: TenantId,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    outcome: Outcome = Outcome.OK,
    detail: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        tenant_key=tenant.key,
        at=call.at,
        actor=call.actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        request_id=call.request_id,
        outcome=outcome,
        before=before,
        after=after,
        source_ip=call.source_ip,
        detail=detail,
    )


def check(call: Call, tenant: TenantId, permission: Permission, *, action: str) -> None:
    """``domain.access.authorize`` plus an audit entry when a member is refused.

    A caller with no role in the tenant gets NotFound and leaves no trace there: the tenant's
    log is for its own members' attempts, and writing to it would confirm the tenant exists.
    """
    try:
        authorize(call.principal, tenant, permission)
    except Forbidden as exc:
        from chalicelib.store import audit_log

        audit_log.append(
            entry(
                call,
                tenant,
                action,
                "permission",
                permission.name.lower(),
                outcome=Outcome.DENIED,
                detail=exc.message,
            )
        )
        raise


def query(
    call: Call,
    tenant: TenantId,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    check(call, tenant, Permission.ADMIN, action="audit.read")
    from chalicelib.store import audit_log

    if not 1 <= limit <= 500:
        raise ValidationError("limit", "must be between 1 and 500")
    page = audit_log.query(
        tenant.key,
        since=_timestamp("since", since),
        until=_timestamp("until", until),
        entity_type=entity_type,
        entity_id=entity_id,
        actor=actor,
        limit=limit,
        cursor=cursor,
    )
    return {
        "entries": [view(e) for e in page.entries],
        "nextCursor": page.next_cursor,
    }


def view(e: AuditEntry) -> dict[str, Any]:
    return {
        "at": e.at,
        "actor": e.actor,
        "action": e.action,
        "entityType": e.entity_type,
        "entityId": e.entity_id,
        "outcome": e.outcome.value,
        "before": e.before,
        "after": e.after,
        "requestId": e.request_id,
        "sourceIp": e.source_ip,
        "detail": e.detail,
    }


def _timestamp(field: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(field, "must be an ISO-8601 timestamp, e.g. 2026-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)
