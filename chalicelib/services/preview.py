"""Delivery preview for the console: what a device with a given context gets from every product, and
whether the CDN manifests answer it alone ("static") or the device would have to call the dynamic API.

It reads the same published, signed files the device and the dynamic check API read (the cache in
``services.checks``) and runs the one decision function, ``domain.delivery.decide``, once per subject
with no ``claim``: a dynamic candidate (time-window quota) stops at ``NeedsServer`` and is reported as
"needs the dynamic API" instead of consuming quota. A preview changes nothing and is not rate-limited
per device (it is a console read, behind the READ permission).
"""

from __future__ import annotations

import time
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.delivery import Candidate, NeedsServer, decide
from chalicelib.domain.targeting import Device
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit
from chalicelib.services.context import Call

NEEDS_DYNAMIC_API = "needs the dynamic API"


def preview(
    call: Call, tenant: TenantId, context: dict[str, Any], *, now: int | None = None
) -> dict[str, Any]:
    """``{"platform", "products": [...]}``, one entry per product (see ``_product``).

    Raises:
        ValidationError: a bad device context (names the key, e.g. ``platform``, ``clientVersion``).
    """
    from chalicelib.services import products

    audit.check(call, tenant, Permission.READ, action="delivery.preview")
    device = Device.from_context(context)
    now = int(time.time()) if now is None else now
    return {
        "platform": device.platform.value,
        "products": [_product(tenant, name, device, now) for name in products.names()],
    }


def _product(tenant: TenantId, name: str, device: Device, now: int) -> dict[str, Any]:
    from chalicelib.services import checks, products
    from chalicelib.store import delivery as store

    spec = products.get(name)
    platform = device.platform.value
    state = store.get_state(tenant, platform)
    published = checks.load_published(tenant, platform, state)  # shares the check API's cache
    entry = published.view.segment_for(name, device) if published is not None else None
    if published is None or entry is None:  # nothing published: the product's empty answer
        return {
            "product": name,
            "published": False,
            "sequence": 0,
            "segment": None,
            "static": True,
            "answer": spec.answer({}, device),
            "chosen": [],
            "needsDynamicApi": [],
        }
    candidates, membership = published.view.candidates_for(name, device), published.view.membership()

    by_subject: dict[str, list[Candidate]] = {}
    for candidate in candidates:  # priority order is kept within each subject
        by_subject.setdefault(candidate.subject, []).append(candidate)
    chosen: dict[str, Candidate] = {}
    dynamic: list[dict[str, str]] = []
    for subject, group in by_subject.items():
        try:
            found = decide(group, device, membership, now=now)  # no claim: never consumes quota
        except NeedsServer as stop:
            dynamic.append(
                {"subject": subject, "candidateId": stop.candidate.id, "reason": NEEDS_DYNAMIC_API}
            )
            continue
        if found is not None:
            chosen[subject] = found
    return {
        "product": name,
        "published": True,
        "sequence": published.sequence,
        "segment": entry["path"],
        "static": not dynamic,
        # with a subject left to the dynamic API, the static part alone is not what the device gets
        "answer": spec.answer(chosen, device) if not dynamic or chosen else None,
        "chosen": [{"subject": s, "candidateId": c.id} for s, c in chosen.items()],
        "needsDynamicApi": dynamic,
    }
