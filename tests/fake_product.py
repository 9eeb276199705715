"""A delivery product for testing the generic static-delivery machinery on its own: its releases are
whatever the test puts in ``RELEASES``; time-window style candidates are claimed against ``QUOTAS``.

It is a fake in the cosmicpython sense (a real implementation of the product interface, kept in
memory), not a mock: publishing, manifests, the device client and the check API run for real.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
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


def answer(chosen: Mapping[str, Candidate], device: Device) -> dict[str, Any]:
    """The "" subject answers as an upgrade-like product; other subjects are listed by candidate id."""
    main = chosen.get("")
    answer = {"resultStatus": 201} if main is None else dict(main.payload)
    subjects = {subject: c.id for subject, c in chosen.items() if subject}
    if subjects:
        answer["subjects"] = subjects
    return {**answer, "userId": device.user_id}
