"""A delivery product for testing the generic static-delivery machinery on its own: its releases are
whatever the test puts in ``RELEASES``; time-window style candidates are claimed against ``QUOTAS``.

It is a fake in the cosmicpython sense (a real implementation of the product interface, kept in
memory), not a mock: publishing, manifests, the device client and the check API run for real.
``FakeProduct(...).install(name)`` plugs in more of them (the fleet bench runs four at once).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId


@dataclass
class FakeProduct:
    releases: dict[tuple[str, str], list[Candidate]] = field(default_factory=dict)  # (tenant, platform)
    quotas: dict[str, int] = field(default_factory=dict)  # candidate id -> remaining
    granted: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (tenant, id) -> identities
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def candidates(self, tenant: TenantId, platform: Platform, *, now: int) -> list[Candidate]:
        """The live releases; a dynamic one whose quota is used up is published ``closed``."""
        return [
            replace(c, closed=c.dynamic and self.is_full(tenant, c))
            for c in self.releases.get((tenant.key, platform.value), [])
            if c.not_after is None or c.not_after > now
        ]

    def is_full(self, tenant: TenantId, candidate: Candidate) -> bool:
        with self._lock:
            return self.quotas.get(candidate.id, 0) <= 0

    def claim(self, tenant: TenantId, candidate: Candidate, device: Device, *, now: int) -> bool:
        who = device.identity or ""
        with self._lock:
            granted = self.granted.setdefault((tenant.key, candidate.id), set())
            if who in granted:
                return True
            if self.quotas.get(candidate.id, 0) <= 0:
                return False
            self.quotas[candidate.id] -= 1
            granted.add(who)
            return True

    def answer(self, chosen: Mapping[str, Candidate], device: Device) -> dict[str, Any]:
        """The "" subject answers as an upgrade-like product; other subjects are listed by id."""
        main = chosen.get("")
        answer = {"resultStatus": 201} if main is None else dict(main.payload)
        subjects = {subject: c.id for subject, c in chosen.items() if subject}
        if subjects:
            answer["subjects"] = subjects
        return {**answer, "userId": device.user_id}

    def install(self, name: str) -> None:
        """Serve product ``name`` (a real product's name too: then this fake replaces it)."""
        from chalicelib.domain import answers
        from chalicelib.services import products

        module = ModuleType(f"{__name__}.{name}")
        for attribute in ("candidates", "is_full", "claim", "answer"):
            setattr(module, attribute, getattr(self, attribute))
        sys.modules[module.__name__] = module
        products.register(name, module.__name__)
        answers.ANSWERS[name] = self.answer


_DEFAULT = FakeProduct()
RELEASES, QUOTAS, GRANTED = _DEFAULT.releases, _DEFAULT.quotas, _DEFAULT.granted
candidates, is_full, claim, answer = _DEFAULT.candidates, _DEFAULT.is_full, _DEFAULT.claim, _DEFAULT.answer
