"""Device reports of hotpatch outcomes: ``applied``, or ``failed`` with a reason.

Public and small: rate-limited per device (``REPORTS_PER_DEVICE``), counted once per (device, patch)
(a conditional put in the same transaction as the counters), and each counted report of a release
with a guardrail re-checks it (``hotpatch_releases.guard``).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.hotpatch import parse_report
from chalicelib.domain.rate_limits import RateLimit
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import rate_limits

REPORTS_PER_DEVICE = RateLimit(
    "hpreport", 10, 60, "too many reports from this device; try again in a minute"
)  # per device and tenant


def report(context: dict[str, Any], *, now: int | None = None) -> dict[str, Any]:
    """Count one report. Returns ``{"counted": bool, "paused": bool}``; ``counted`` is False for a
    repeat from the same device about the same patch (nothing changes).

    Raises:
        ValidationError: naming the field; NotFound: no such patch/release in the tenant; RateLimited.
    """
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.time_zones import iso
    from chalicelib.services import hotpatch_releases
    from chalicelib.store import hotpatch as store

    now = int(time.time()) if now is None else now
    for name in ("appId", "workspaceId", "deviceId"):
        if not isinstance(context.get(name), str) or not context.get(name):
            raise ValidationError(name, "is required")
    tenant = TenantId.parse(context["appId"], context["workspaceId"])
    device_id = context["deviceId"]
    if len(device_id) > 128:
        raise ValidationError("deviceId", "must be at most 128 characters")
    parsed = parse_report(context)
    rate_limits.take(REPORTS_PER_DEVICE, f"{tenant.key}#{device_id}", now=now)
    patch = store.get_patch(tenant, parsed.patch_id)
    release = None
    if parsed.release_id is not None:
        try:
            release = store.get_release(tenant, parsed.release_id)
        except NotFound:
            release = None
        if release is None or release.patch_id != patch.id:
            raise ValidationError("releaseId", f"is not a release of patch {patch.id}")
    device_hash = hashlib.sha256(f"{tenant.key}:{device_id}".encode()).hexdigest()
    try:
        store.count_report(
            tenant,
            patch_id=patch.id,
            release_id=parsed.release_id,
            device_hash=device_hash,
            outcome=parsed.outcome,
            at=iso(datetime.fromtimestamp(now, UTC)),
        )
    except store.AlreadyCounted:
        return {"counted": False, "paused": False}
    if release is not None:
        _count_reach(tenant, release.id, patch, device_id, parsed, now)
    guarded = release is not None and release.guardrail is not None and release.is_running()
    paused = hotpatch_releases.guard(tenant, release.id) if guarded and release is not None else False
    return {"counted": True, "paused": paused}


def _count_reach(
    tenant: TenantId, release_id: str, patch: Any, device_id: str, report: Any, now: int
) -> None:
    """The same outcome as a device-events fact, so a hotpatch release's reach (``mds stats``) and the
    release guardrails read one source (docs/events.md)."""
    from chalicelib.domain.events import Fact, Release, Stage, device_hash
    from chalicelib.domain.hotpatch import Outcome
    from chalicelib.store import metrics

    failed = report.outcome is Outcome.FAILED
    fact = Fact(
        release=Release("hotpatch", release_id),
        stage=Stage.INSTALL_FAILED if failed else Stage.INSTALLED,
        detail=(report.reason or "unknown").replace("#", " ")[:200] if failed else "",
        day=datetime.fromtimestamp(now, UTC).date().isoformat(),
        platform=patch.platform,
        client_version=patch.app_version.canonical,
        device_hash=device_hash(tenant.key, device_id),
    )
    metrics.count_facts(tenant, [fact])
