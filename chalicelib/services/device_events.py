"""Device events: accepted by the public API, queued, counted by the aggregator, read as reach.

``accept`` (``POST /client/v1/events``) validates a batch strictly (``domain.events.parse_batch``),
rate-limits per device and hands the batch to SQS — the answer does not wait for DynamoDB.
``ingest`` (the SQS handler) re-reads the batch and counts its facts exactly once
(``store.metrics``). ``reach`` is the funnel of one release for the console, API and CLI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from chalicelib.config import settings
from chalicelib.domain.access import Permission
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.events import Fact, Release, Stage, parse_batch
from chalicelib.domain.events import reach as funnel
from chalicelib.domain.rate_limits import RateLimit
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import rate_limits
from chalicelib.services.context import Call

BATCHES_PER_DEVICE = RateLimit(
    "events", 30, 60, "too many event batches from this device; try again in a minute"
)  # per device and tenant
MAX_BATCH_BYTES = 64 * 1024


def accept(body: dict[str, Any], *, now: float | None = None) -> dict[str, Any]:
    """Queue one batch. Returns ``{"accepted": <events>}``.

    Raises:
        PayloadTooLarge / ValidationError (naming the field) / RateLimited — and then nothing is queued.
    """
    from chalicelib.domain.errors import PayloadTooLarge
    from chalicelib.store import queues

    now = time.time() if now is None else now
    message = json.dumps({"receivedAt": int(now), "batch": body}, separators=(",", ":"))
    if len(message) > MAX_BATCH_BYTES:
        raise PayloadTooLarge(f"a batch is at most {MAX_BATCH_BYTES} bytes of JSON", field="body")
    tenant = _tenant(body)
    batch = parse_batch(body, tenant_key=tenant.key, now=now)
    rate_limits.take(BATCHES_PER_DEVICE, f"{tenant.key}#{batch.device_id}", now=now)
    queues.send(settings().device_events_queue, message)
    return {"accepted": len(batch.facts)}


def ingest(message_bodies: Iterable[str]) -> int:
    """Count the facts of queued batches (one SQS delivery); a redelivered message counts nothing
    again. Facts of all the batches share transactions, and each release with new installs or
    failures is re-checked by its guardrail once. Returns how many facts were new."""
    from chalicelib.services import rollouts
    from chalicelib.store import metrics

    facts: dict[TenantId, list[Fact]] = {}
    for body in message_bodies:
        message = json.loads(body)
        tenant = _tenant(message["batch"])
        batch = parse_batch(message["batch"], tenant_key=tenant.key, now=message["receivedAt"])
        facts.setdefault(tenant, []).extend(batch.facts)
    counted = 0
    for tenant, tenant_facts in facts.items():
        new = metrics.count_facts(tenant, tenant_facts)
        counted += new
        if new:
            guarded = {f.release for f in tenant_facts if f.stage.is_failure or f.stage is Stage.INSTALLED}
            for release in sorted(guarded, key=lambda r: r.ref):
                rollouts.guard(tenant, release)  # a release with a guardrail re-checks it
    return counted


def reach(call: Call, tenant: TenantId, release_ref: str) -> dict[str, Any]:
    """The funnel of ``release_ref`` (``upgrade-task-12``, ``h5-task-3``, ``hotpatch-release-7``,
    ``config:<key>``): devices per stage, failures by reason, per day and per client version."""
    from chalicelib.services import audit
    from chalicelib.store import metrics

    audit.check(call, tenant, Permission.READ, action="reach.read")
    release = Release.parse(release_ref)
    return funnel(release, metrics.counts(tenant, release))


def _tenant(body: dict[str, Any]) -> TenantId:
    for name in ("appId", "workspaceId"):
        if not isinstance(body.get(name), str) or not body.get(name):
            raise ValidationError(name, "is required")
    return TenantId.parse(body["appId"], body["workspaceId"])
