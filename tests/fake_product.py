"""A delivery product for testing the generic static-delivery machinery on its own: its releases are
whatever the test puts in ``RELEASES``; time-window style candidates are claimed against ``QUOTAS``.

It is a fake in the cosmicpython sense (a real implementation of the product interface, kept in
memory), not a mock: publishing, manifests, the device client and the check API run for real.
"""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId

RELEASES: dict[tuple[str, str], list[Candidate]] = {}
QUOTAS: dict[str, int] = {}  # candidate id -> remaining
GRANTED: dict[str, set[str]] = {}
_lock = threading.Lock()


def candidates(tenant: TenantId, platform: Platform, *, now: int) -> list[Candidate]:
    return [
        c for c in RELEASES.get((tenant.key, platform.value), []) if c.not_after is None or c.not_after > now
    ]


def claim(tenant: TenantId, candidate: Candidate, device: Device, *, now: int) -> bool:
    who = device.identity or ""
    with _lock:
        granted = GRANTED.setdefault(candidate.id, set())
        if who in granted:
            return True
        if QUOTAS.get(candidate.id, 0) <= 0:
            return False
        QUOTAS[candidate.id] -= 1
        granted.add(who)
        return True


def answer(chosen: Candidate | None, device: Device) -> dict[str, Any]:
    if chosen is None:
        return {"resultStatus": 201, "userId": device.user_id}
    return {**chosen.payload, "userId": device.user_id}
