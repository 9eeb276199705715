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
    from chalicelib.services import hotpatch_releases
    from chalicelib.services.context import iso
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
    guarded = release is not None and release.guardrail is not None and release.is_running()
    paused = hotpatch_releases.guard(tenant, release.id) if guarded and release is not None else False
    return {"counted": True, "paused": paused}
