"""The client answer of each product for a decision (``{subject: chosen candidate}`` from
``domain.delivery.decide_each``): one function per product, used by the check API, the preview and
the device client alike, so they cannot answer differently for the same decision."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.domain import config
from chalicelib.domain.delivery import Candidate
from chalicelib.domain.errors import NotFound
from chalicelib.domain.hotpatch import no_patch_payload
from chalicelib.domain.targeting import Device
from chalicelib.domain.upgrade import UP_TO_DATE

Answer = Callable[[Mapping[str, Candidate], Device], dict[str, Any]]


def upgrade(chosen: Mapping[str, Candidate], device: Device) -> dict[str, Any]:
    """The chosen task's payload plus ``userId``, or ``resultStatus`` 201 (up to date). Upgrade
    candidates have no subject: one decision per device."""
    user_id = device.user_id or ""
    task = chosen.get("")
    if task is None:
        return {"resultStatus": UP_TO_DATE, "userId": user_id}
    return {**task.payload, "userId": user_id}


def h5(chosen: Mapping[str, Candidate], device: Device) -> dict[str, Any]:
    """``{"packages": [payload, ...]}``: the version each H5 app should have, by H5 ID."""
    return {
        "packages": [dict(chosen[h5_id].payload) for h5_id in sorted(chosen) if h5_id],
        "userId": device.user_id or "",
    }


def hotpatch(chosen: Mapping[str, Candidate], device: Device) -> dict[str, Any]:
    """The chosen release's patch (one subject), or "no patch"."""
    release = next(iter(chosen.values()), None)
    if release is None:
        return no_patch_payload(revoked=[], rollback_seq=0)
    return dict(release.payload)


ANSWERS: dict[str, Answer] = {"upgrade": upgrade, "h5": h5, "config": config.answer, "hotpatch": hotpatch}


def answer_for(product: str, chosen: Mapping[str, Candidate], device: Device) -> dict[str, Any]:
    answer = ANSWERS.get(product)
    if answer is None:
        raise NotFound(f"unknown product {product!r}; one of: {', '.join(ANSWERS)}")
    return answer(chosen, device)
