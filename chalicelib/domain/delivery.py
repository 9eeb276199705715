"""The one decision every delivery answer comes from: which release (if any) a device gets.

A product (upgrade, H5, config, hotpatch) turns its live releases into ``Candidate``s, already in
priority order. ``decide`` walks them and returns the first one the device matches. Candidates carry a
``subject``: the thing they compete for (one H5 app, one config key; "" for products with one answer,
such as upgrade). ``decide_each`` makes that decision once per subject. The device runs it
on the candidates of its manifest segment; the dynamic check API runs it on the same candidates with
server state. Entries that need server state (a time-window quota that must be claimed atomically)
are ``dynamic``: without a ``claim`` function, ``decide`` stops there with ``NeedsServer`` — which is
exactly when the device calls the dynamic API. So the two paths cannot disagree. A device's ``claim``
answers from the grants it holds (``domain.grants``) and raises ``NeedsServer`` for an open entry it
holds none for. A dynamic entry whose quota is full is ``closed``: only the holders of a place get it,
so without a ``claim`` (a device with no grant, the preview) it is skipped, with no call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.targeting import CompiledTarget, Device, WhitelistMembership


@dataclass(frozen=True)
class Candidate:
    """One release a device may get. ``payload`` is what the product answers with when it is chosen."""

    id: str
    target: CompiledTarget
    payload: Mapping[str, Any] = field(default_factory=dict)
    dynamic: bool = False  # a server-side claim decides (time-window quota)
    not_after: int | None = None  # epoch seconds; from then on the entry is ignored
    subject: str = ""  # candidates of one subject compete; a device gets at most one per subject
    closed: bool = False  # a dynamic entry whose quota is full: only devices holding a place get it

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "target": self.target.to_json(), "payload": dict(self.payload)}
        if self.dynamic:
            data["dynamic"] = True
        if self.not_after is not None:
            data["notAfter"] = self.not_after
        if self.subject:
            data["subject"] = self.subject
        if self.closed:
            data["closed"] = True
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Candidate:
        return cls(
            id=str(data["id"]),
            target=CompiledTarget.from_json(data["target"]),
            payload=dict(data.get("payload") or {}),
            dynamic=bool(data.get("dynamic", False)),
            not_after=int(data["notAfter"]) if data.get("notAfter") is not None else None,
            subject=str(data.get("subject") or ""),
            closed=bool(data.get("closed", False)),
        )


class NeedsServer(Exception):
    """The first matching candidate needs a server-side claim: ask the dynamic API."""

    def __init__(self, candidate: Candidate) -> None:
        super().__init__(candidate.id)
        self.candidate = candidate


Claim = Callable[[Candidate], bool]


def device_claim(holds: Claim) -> Claim:
    """A device's claim of a time-window entry: held when it holds a valid grant for it (``holds``);
    else a ``closed`` entry is skipped without asking; else only the server can tell (``NeedsServer``)."""

    def claim(candidate: Candidate) -> bool:
        if holds(candidate):
            return True
        if candidate.closed:
            return False
        raise NeedsServer(candidate)

    return claim


@dataclass(frozen=True)
class PlaceRequest:
    """A time-window place to claim on the server: the task's ID (``candidate.id`` without its
    product's prefix) for ``identity``, in a window that ends at ``end_time``."""

    task_id: str
    identity: str
    end_time: int


def place_request(candidate: Candidate, device: Device, *, now: int, prefix: str) -> PlaceRequest | bool:
    """The one rule of a time-window claim, for every product with time windows: ``True`` for a static
    candidate (nothing to claim), ``False`` when no place can be had (no user or device ID to count, or
    the window has ended), else the place to claim."""
    if not candidate.dynamic:
        return True
    if not candidate.id.startswith(prefix) or candidate.not_after is None:
        raise ValueError(f"{candidate.id} is not a time-window task of {prefix!r}")
    if not device.identity or now >= candidate.not_after:
        return False
    return PlaceRequest(candidate.id[len(prefix) :], device.identity, candidate.not_after)


def decide(
    candidates: Sequence[Candidate],
    device: Device,
    membership: WhitelistMembership | None,
    *,
    now: int,
    claim: Claim | None = None,
) -> Candidate | None:
    """The first candidate (in priority order) that is live at ``now``, matches ``device`` and, if it is
    dynamic, is claimed. Raises ``NeedsServer`` at a dynamic candidate when ``claim`` is None."""
    for candidate in candidates:
        if _applies(candidate, device, membership, now, claim):
            return candidate
    return None


def decide_each(
    candidates: Sequence[Candidate],
    device: Device,
    membership: WhitelistMembership | None,
    *,
    now: int,
    claim: Claim | None = None,
) -> dict[str, Candidate]:
    """``decide`` once per subject: subject -> the first applying candidate of that subject (subjects
    with none are absent). Raises ``NeedsServer`` at the first dynamic match when ``claim`` is None."""
    chosen: dict[str, Candidate] = {}
    for candidate in candidates:
        if candidate.subject not in chosen and _applies(candidate, device, membership, now, claim):
            chosen[candidate.subject] = candidate
    return chosen


def _applies(
    candidate: Candidate,
    device: Device,
    membership: WhitelistMembership | None,
    now: int,
    claim: Claim | None,
) -> bool:
    if candidate.not_after is not None and now >= candidate.not_after:
        return False
    if not candidate.target.matches(device, membership):
        return False
    if candidate.dynamic:
        if claim is None:
            if candidate.closed:
                return False  # full: nobody new gets it, so there is nothing to ask
            raise NeedsServer(candidate)
        return claim(candidate)
    return True
