"""Device events (schema 1): what happened on the devices, per release, as funnel *facts*.

A device sends batches of events (``parse_batch``): a check that offered a release, a prompt shown,
a download started / finished / failed, an install (or hotpatch apply) finished / failed, the config
value in force. Each event names its ``release`` the way the manifests do (the candidate ID:
``upgrade-task-12``, ``h5-task-3``, ``hotpatch-release-7``) or, for config, ``config:<key>``.

Counting is by fact, not by message: a fact is (release, stage, detail, device), and it counts once
however often it is sent, in whatever order, by whichever retry — so the funnel says how many
*devices* reached each stage. ``detail`` is the failure reason, or the config value. The event ID
makes duplicates of one event recognisable (a batch never repeats an ID) and is what the SDKs keep to
send each fact once; the server's exactness comes from the fact key.

What is stored (see docs/events.md): per fact, a salted hash of the device ID (never the ID, never a
user ID), for ``FACT_TTL_DAYS``; per (release, stage, day, platform, client version, detail), a count.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.targeting import Platform
from chalicelib.domain.versions import Version

SCHEMA = 1
MAX_EVENTS_PER_BATCH = 50
MAX_DETAIL = 200  # a failure reason or a config value, as counted (longer values are hashed)
PAST_DAYS = 30  # a device offline for a month may still send what happened
FUTURE_SECONDS = 300  # clock skew allowed ahead of the server
FACT_TTL_DAYS = 90
SHARDS = 16  # counters of one release are spread over this many partitions

_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_RELEASE = re.compile(
    r"(?:(upgrade)-task-|(h5)-task-|(hotpatch)-release-)(\d{1,12})|(config):([A-Za-z0-9_.\-]{1,128})"
)
_BATCH_FIELDS = frozenset(
    {"schema", "appId", "workspaceId", "platform", "deviceId", "clientVersion", "events"}
)
_DEVICE = re.compile(r"[\x21-\x7e]{1,128}")


class Stage(enum.StrEnum):
    """Funnel stages, in funnel order. The wire event type of each is ``EVENT_TYPES``."""

    OFFERED = "offered"
    PROMPTED = "prompted"
    DOWNLOAD_STARTED = "downloadStarted"
    DOWNLOADED = "downloaded"
    DOWNLOAD_FAILED = "downloadFailed"
    INSTALLED = "installed"
    INSTALL_FAILED = "installFailed"
    CONFIG_ACTIVE = "configActive"

    @property
    def is_failure(self) -> bool:
        return self in (Stage.DOWNLOAD_FAILED, Stage.INSTALL_FAILED)


EVENT_TYPES: dict[str, Stage] = {
    "check.answered": Stage.OFFERED,
    "prompt.shown": Stage.PROMPTED,
    "download.started": Stage.DOWNLOAD_STARTED,
    "download.finished": Stage.DOWNLOADED,
    "download.failed": Stage.DOWNLOAD_FAILED,
    "install.finished": Stage.INSTALLED,  # for a hotpatch: applied
    "install.failed": Stage.INSTALL_FAILED,  # for a hotpatch: failed to apply
    "config.active": Stage.CONFIG_ACTIVE,
}
_DELIVERY = frozenset(EVENT_TYPES) - {"config.active"}
PRODUCT_EVENTS: dict[str, frozenset[str]] = {
    "upgrade": _DELIVERY,
    "h5": _DELIVERY - {"prompt.shown"},
    "hotpatch": _DELIVERY - {"prompt.shown"},
    "config": frozenset({"config.active"}),
}


@dataclass(frozen=True)
class Release:
    """What an event is about: a product and the release's ID (a task, a hotpatch release, a key)."""

    product: str
    id: str

    @property
    def ref(self) -> str:
        return {"upgrade": "upgrade-task-", "h5": "h5-task-", "hotpatch": "hotpatch-release-"}.get(
            self.product, "config:"
        ) + self.id

    @classmethod
    def parse(cls, text: object, field: str = "release") -> Release:
        if not isinstance(text, str):
            raise ValidationError(field, "must be a string")
        match = _RELEASE.fullmatch(text)
        if match is None:
            raise ValidationError(
                field, "must be upgrade-task-<id>, h5-task-<id>, hotpatch-release-<id> or config:<key>"
            )
        upgrade, h5, hotpatch, number, config, key = match.groups()
        if config:
            return cls("config", key)
        return cls(upgrade or h5 or hotpatch, number)


@dataclass(frozen=True)
class Fact:
    """One device reaching one stage of one release; counted once per (release, stage, detail, device)."""

    release: Release
    stage: Stage
    detail: str  # the failure reason, the config value, or ""
    day: str  # YYYY-MM-DD (UTC) of the event
    platform: Platform
    client_version: str
    device_hash: str

    @property
    def shard(self) -> int:
        return int(self.device_hash[:8], 16) % SHARDS


@dataclass(frozen=True)
class EventBatch:
    app_id: str
    workspace_id: str
    device_id: str
    facts: tuple[Fact, ...]


def device_hash(tenant_key: str, device_id: str) -> str:
    """The device as stored: a hash salted with the tenant, so it means nothing outside it."""
    return hashlib.sha256(f"events:{tenant_key}:{device_id}".encode()).hexdigest()[:32]


def parse_batch(data: Mapping[str, Any], *, tenant_key: str, now: float) -> EventBatch:
    """A batch as a device sends it: ``schema``, ``appId``, ``workspaceId``, ``platform``, ``deviceId``,
    ``clientVersion`` and ``events`` (1–50 of ``{id, type, at, release, reason?, value?}``).

    Raises:
        ValidationError: naming the field (``events[3].reason``) and the rule; nothing is counted.
    """
    unknown = set(data) - _BATCH_FIELDS
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a known field")
    if data.get("schema") != SCHEMA:
        raise ValidationError("schema", f"must be {SCHEMA}")
    platform = Platform.parse(data.get("platform"))
    device_id = data.get("deviceId")
    if not isinstance(device_id, str) or not _DEVICE.fullmatch(device_id):
        raise ValidationError("deviceId", "must be 1 to 128 printable ASCII characters")
    client_version = data.get("clientVersion")
    if not isinstance(client_version, str) or not client_version:
        raise ValidationError("clientVersion", "is required")
    version = Version.parse(client_version, "clientVersion").canonical
    events = data.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS_PER_BATCH:
        raise ValidationError("events", f"must be a list of 1 to {MAX_EVENTS_PER_BATCH} events")
    who = device_hash(tenant_key, device_id)
    seen_ids: set[str] = set()
    facts = []
    for n, event in enumerate(events):
        facts.append(_fact(event, f"events[{n}]", seen_ids, platform, version, who, now))
    return EventBatch(str(data.get("appId")), str(data.get("workspaceId")), device_id, tuple(facts))


def _fact(
    event: Any, at: str, seen: set[str], platform: Platform, version: str, who: str, now: float
) -> Fact:
    if not isinstance(event, dict):
        raise ValidationError(at, "must be an object")
    unknown = set(event) - {"id", "type", "at", "release", "reason", "value"}
    if unknown:
        raise ValidationError(f"{at}.{sorted(unknown)[0]}", "is not a known field")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not _ID.fullmatch(event_id):
        raise ValidationError(f"{at}.id", "must be 8 to 64 letters, digits, '-' or '_'")
    if event_id in seen:
        raise ValidationError(f"{at}.id", "is used twice in this batch")
    seen.add(event_id)
    kind = event.get("type")
    if kind not in EVENT_TYPES:
        raise ValidationError(f"{at}.type", "must be one of " + ", ".join(EVENT_TYPES))
    stage = EVENT_TYPES[kind]
    release = Release.parse(event.get("release"), f"{at}.release")
    if kind not in PRODUCT_EVENTS[release.product]:
        raise ValidationError(f"{at}.type", f"is not an event of a {release.product} release")
    when = event.get("at")
    if isinstance(when, bool) or not isinstance(when, int):
        raise ValidationError(f"{at}.at", "must be whole seconds since the epoch")
    if not now - PAST_DAYS * 86400 <= when <= now + FUTURE_SECONDS:
        raise ValidationError(f"{at}.at", f"must be within the last {PAST_DAYS} days")
    detail = _detail(event, at, stage)
    day = datetime.fromtimestamp(when, UTC).date().isoformat()
    return Fact(release, stage, detail, day, platform, version, who)


def _detail(event: Mapping[str, Any], at: str, stage: Stage) -> str:
    reason, value = event.get("reason"), event.get("value")
    if stage.is_failure:
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError(f"{at}.reason", "is required for a failure")
        return _bounded(reason.strip(), f"{at}.reason", hash_long=False)
    if reason is not None:
        raise ValidationError(f"{at}.reason", "is only for download.failed and install.failed")
    if stage is Stage.CONFIG_ACTIVE:
        if not isinstance(value, str):
            raise ValidationError(f"{at}.value", "is required (the value in force, as a string)")
        return _bounded(value, f"{at}.value", hash_long=True)
    if value is not None:
        raise ValidationError(f"{at}.value", "is only for config.active")
    return ""


def _bounded(text: str, field: str, *, hash_long: bool) -> str:
    if "#" in text or any(ord(c) < 0x20 for c in text):
        raise ValidationError(field, "must not contain '#' or control characters")
    if len(text) <= MAX_DETAIL:
        return text
    if not hash_long:
        raise ValidationError(field, f"must be at most {MAX_DETAIL} characters")
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()  # long config values: one bucket each


# ----------------------------------------------------------------------------------------------- reach

FUNNEL = (Stage.OFFERED, Stage.PROMPTED, Stage.DOWNLOAD_STARTED, Stage.DOWNLOADED, Stage.INSTALLED)


@dataclass(frozen=True)
class Count:
    """One stored counter: a number of devices for one combination of dimensions."""

    stage: Stage
    day: str
    platform: str
    client_version: str
    detail: str
    devices: int


def reach(release: Release, counts: Iterable[Count]) -> dict[str, Any]:
    """The funnel of one release from its counters: totals per stage, failures by reason, and the same
    per day and per (platform, client version); for config, devices per value."""
    counts = list(counts)
    totals = _zero()
    failures: dict[str, dict[str, int]] = {"download": {}, "install": {}}
    by_day: dict[str, dict[str, int]] = {}
    by_client: dict[tuple[str, str], dict[str, int]] = {}
    values: dict[str, int] = {}
    for c in counts:
        if c.stage is Stage.CONFIG_ACTIVE:
            values[c.detail] = values.get(c.detail, 0) + c.devices
            continue
        totals[c.stage.value] += c.devices
        by_day.setdefault(c.day, _zero())[c.stage.value] += c.devices
        by_client.setdefault((c.platform, c.client_version), _zero())[c.stage.value] += c.devices
        if c.stage.is_failure:
            kind = "download" if c.stage is Stage.DOWNLOAD_FAILED else "install"
            failures[kind][c.detail] = failures[kind].get(c.detail, 0) + c.devices
    answer: dict[str, Any] = {"release": release.ref, "product": release.product}
    if release.product == "config":
        answer["key"] = release.id
        answer["values"] = [
            {"value": v, "devices": n} for v, n in sorted(values.items(), key=lambda i: -i[1])
        ]
        return answer
    answer["funnel"] = totals
    answer["failures"] = failures
    answer["byDay"] = [{"day": day, **stages} for day, stages in sorted(by_day.items())]
    answer["byClient"] = [
        {"platform": p, "clientVersion": v, **stages} for (p, v), stages in sorted(by_client.items())
    ]
    return answer


def _zero() -> dict[str, int]:
    return {s.value: 0 for s in Stage if s is not Stage.CONFIG_ACTIVE}
