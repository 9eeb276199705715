"""The audit log table: append-only, queried per tenant by time, filtered by entity."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.expressions.condition import Condition

from chalicelib.domain.audit import AuditEntry, Outcome
from chalicelib.store.models import AuditModel


def to_model(entry: AuditEntry, n: int = 0) -> AuditModel:
    return AuditModel(
        tenant=entry.tenant_key,
        entry_id=f"{entry.at}#{entry.request_id}#{n}",
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        outcome=entry.outcome.value,
        request_id=entry.request_id,
        source_ip=entry.source_ip,
        detail=entry.detail,
        before=entry.before,
        after=entry.after,
    )


def _from_model(m: AuditModel) -> AuditEntry:
    return AuditEntry(
        tenant_key=m.tenant,
        at=m.at,
        actor=m.actor,
        action=m.action,
        entity_type=m.entity_type,
        entity_id=m.entity_id,
        request_id=m.request_id,
        outcome=Outcome(m.outcome),
        before=m.before,
        after=m.after,
        source_ip=m.source_ip,
        detail=m.detail,
    )


def append(entry: AuditEntry) -> None:
    """Record an entry outside any change (e.g. a refused attempt, where nothing else is written)."""
    to_model(entry.redacted()).save()


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    next_cursor: str | None


def query(
    tenant_key: str,
    *,
    since: str | None = None,
    until: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> AuditPage:
    """Newest first. ``since``/``until`` are ISO timestamps (inclusive/exclusive)."""
    range_condition: Condition | None = None
    if since and until:
        range_condition = AuditModel.entry_id.between(since, until)
    elif since:
        range_condition = AuditModel.entry_id >= since
    elif until:
        range_condition = AuditModel.entry_id < until
    filters = []
    if entity_type:
        filters.append(AuditModel.entity_type == entity_type)
    if entity_id:
        filters.append(AuditModel.entity_id == entity_id)
    if actor:
        filters.append(AuditModel.actor == actor)
    filter_condition = None
    for f in filters:
        filter_condition = f if filter_condition is None else filter_condition & f
    last_key = {"tenant": {"S": tenant_key}, "entry_id": {"S": cursor}} if cursor else None
    results = AuditModel.query(
        tenant_key,
        range_key_condition=range_condition,
        filter_condition=filter_condition,
        scan_index_forward=False,
        last_evaluated_key=last_key,
        page_size=max(limit, 25),
    )
    entries: list[AuditEntry] = []
    last_entry_id = None
    for model in results:
        entries.append(_from_model(model))
        last_entry_id = model.entry_id
        if len(entries) == limit:
            break
    # DynamoDB resumes strictly after the given key, so the last returned entry is the cursor.
    return AuditPage(entries, last_entry_id if len(entries) == limit else None)
