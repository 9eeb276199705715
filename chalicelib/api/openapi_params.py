"""What every mPaaS OpenAPI product module shares: the enums of release tasks, reading wire
parameters (all values arrive as form text), writing wire values (ints, ``YYYY-MM-DD hh:mm:ss``
times, paging), and renaming our field names to wire parameters in business errors.

The product modules (``openapi_h5``, ``openapi_upgrade``, ``openapi_whitelists``, ``openapi_hotpatch``)
hold only their own mapping; an enum or a parsing rule used by two of them lives here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from chalicelib.domain.errors import MissingParameter, ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.services.context import Call

# ------------------------------------------------------------------------------- release-task enums

PUBLISH_TYPES = {2: "gray", 3: "official"}
PUBLISH_TYPE_CODES = {v: k for k, v in PUBLISH_TYPES.items()}
PUBLISH_MODES = {1: "whitelist", 2: "timeWindow"}  # H5's own spelling, time_window, is accepted too
PUBLISH_MODE_CODES = {"whitelist": 1, "timeWindow": 2, "time_window": 2}
PUBLISH_MODE_FULL = 4  # what mPaaS lists for an official task
TASK_STATUS_CODES = {"running": 1, "ended": 2, "paused": 3}
# ``PublishPeriod`` of a release (upgrade package, H5 version): its derived ``ReleaseStatus``.
PUBLISH_PERIODS = {"toBeReleased": 0, "grayRelease": 1, "officialRelease": 2, "paused": 3, "finished": 4}
STATUS_ACTIONS = {3: "pause", 1: "resume", 2: "end"}
PLATFORM_OUT = {"all": "all", "android": "Android", "ios": "iOS"}
MAX_PAGE_SIZE = 100
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


# ------------------------------------------------------------------------------ the wire's time zone


class WireZone:
    """The zone of one call's wire times: the workspace's (``services.workspaces.time_zone``), read on
    first use. ``used`` tells the dispatcher to name the zone in the answer (``TimeZone``)."""

    def __init__(self, tenant: TenantId) -> None:
        self.tenant, self.used = tenant, False
        self._tz: tzinfo | None = None

    @property
    def tz(self) -> tzinfo:
        if self._tz is None:
            from chalicelib.services import workspaces

            self._tz = workspaces.time_zone(self.tenant)
        self.used = True
        return self._tz

    @property
    def name(self) -> str:
        return str(getattr(self.tz, "key", None) or self.tz.tzname(None) or "UTC")


WIRE_ZONE: ContextVar[WireZone | None] = ContextVar("wire_zone", default=None)


def wire_tz() -> tzinfo:
    """The current call's wire zone (UTC outside an OpenAPI call)."""
    current = WIRE_ZONE.get()
    return UTC if current is None else current.tz


# ------------------------------------------------------------------------------ business errors


def rename_field(field: str, mapping: Mapping[str, str]) -> str:
    """``whitelistIds[0]`` → ``WhitelistIds[0]`` when ``mapping`` has ``whitelistIds``; else unchanged."""
    head = re.split(r"[.\[]", field, maxsplit=1)[0]
    return mapping[head] + field[len(head) :] if head in mapping else field


@contextmanager
def wire_errors(mapping: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a service's ValidationError with the wire parameter the caller sent, so that
    ``ResultMessage`` reads ``WhitelistIds[0]: ...`` rather than our ``whitelistIds[0]: ...``."""
    try:
        yield
    except ValidationError as exc:
        renamed = rename_field(exc.field or "", mapping)
        if renamed == exc.field:
            raise
        again = ValidationError(renamed, exc.rule)
        again.CODE = exc.CODE  # keep MissingParameter vs InvalidParameter
        raise again from None


# ------------------------------------------------------------------------------ reading parameters


def text(params: dict[str, str], name: str, *, required: bool = False, max_len: int = 1024) -> str | None:
    """A text parameter: None when absent, ``""`` when sent blank (``Key=``)."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise MissingParameter(name)
        return None if value is None else ""
    if len(value) > max_len:
        raise ValidationError(name, f"must be at most {max_len} characters")
    return value


def integer(
    params: dict[str, str], name: str, *, required: bool = False, low: int = 0, high: int = 2**53
) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        if required:
            raise MissingParameter(name)
        return None
    if not re.fullmatch(r"-?\d{1,16}", value):
        raise ValidationError(name, "must be an integer")
    number = int(value)
    if not low <= number <= high:
        raise ValidationError(name, f"must be from {low} to {high}")
    return number


def ident(params: dict[str, str], name: str) -> str:
    """A required ID (int on the wire for some actions, text for others) as our numeric-text ID."""
    return str(integer(params, name, required=True, low=1))


def id_list(params: dict[str, str], name: str, *, max_len: int = 1024) -> list[str]:
    """``"1, 2,3"`` → ``["1", "2", "3"]`` (blank items dropped)."""
    return [w.strip() for w in (text(params, name, max_len=max_len) or "").split(",") if w.strip()]


def page(params: dict[str, str]) -> tuple[int, int]:
    number = integer(params, "PageNum", low=1, high=1_000_000) or 1
    size = integer(params, "PageSize", low=1, high=MAX_PAGE_SIZE) or 20
    return number, size


def publish_type(params: dict[str, str]) -> str:
    """``PublishType`` 2 / 3 → ``gray`` / ``official``."""
    code = integer(params, "PublishType", required=True, low=0, high=9)
    if code not in PUBLISH_TYPES:
        raise ValidationError("PublishType", "must be 2 (grey) or 3 (official)")
    return PUBLISH_TYPES[code]


def publish_mode(params: dict[str, str]) -> str:
    """``PublishMode`` of a grey task, 1 / 2 → ``whitelist`` / ``timeWindow``."""
    code = integer(params, "PublishMode", required=True, low=0, high=9)
    if code not in PUBLISH_MODES:
        raise ValidationError("PublishMode", "must be 1 (whitelist) or 2 (time window) for a grey task")
    return PUBLISH_MODES[code]


def status_action(params: dict[str, str], name: str = "TaskStatus") -> str:
    """The target ``TaskStatus`` of a status change, 3 / 1 / 2 → ``pause`` / ``resume`` / ``end``."""
    code = integer(params, name, required=True, low=0, high=9)
    if code not in STATUS_ACTIONS:
        raise ValidationError(name, "must be 3 (pause), 1 (resume) or 2 (end)")
    return STATUS_ACTIONS[code]


def grey_end(params: dict[str, str], now: datetime, *, within: timedelta | None = None) -> int | None:
    """``GreyEndtimeData`` (``YYYY-MM-DD hh:mm:ss`` in the workspace's time zone, mPaaS's UTC+8 by
    default) as epoch seconds; in the future, and within ``within`` of now when the product limits its
    windows (H5: 7 days)."""
    from chalicelib.domain.time_zones import read_local

    value = text(params, "GreyEndtimeData", max_len=32)
    if not value:
        return None
    tz = wire_tz()
    try:
        moment = read_local(value, tz)
    except ValueError:
        zone = WIRE_ZONE.get()
        zone_name = zone.name if zone else "UTC"
        raise ValidationError(
            "GreyEndtimeData", f"must be a time YYYY-MM-DD hh:mm:ss (in the workspace's zone, {zone_name})"
        ) from None
    if moment <= now:
        raise ValidationError("GreyEndtimeData", "must be in the future")
    if within is not None and moment > now + within:
        raise ValidationError("GreyEndtimeData", f"must be within {within.days} days from now")
    return int(moment.timestamp())


# ------------------------------------------------------------------------------ writing values


def id_out(value: Any) -> int:
    """Our numeric-text IDs as the JSON integers the SDK models declare (0 when not numeric)."""
    value_text = str(value if value is not None else "")
    return int(value_text) if value_text.isdigit() else 0


def gmt(value: Any) -> str:
    """Our timestamps (ISO-8601 text or epoch seconds) as mPaaS writes them: ``YYYY-MM-DD hh:mm:ss`` in
    the workspace's time zone."""
    if value is None or value == "":
        return ""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, UTC)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return str(value)
    return moment.astimezone(wire_tz()).strftime(TIME_FORMAT)


def millis(value: Any) -> int:
    shown = gmt(value)
    if not shown:
        return 0
    return int(datetime.strptime(shown, TIME_FORMAT).replace(tzinfo=wire_tz()).timestamp() * 1000)


def app_code(tenant: TenantId) -> str:
    return f"{tenant.app_id}-{tenant.workspace_id}"


def platform_out(platform: Any) -> str:
    """Our ``android``/``ios``/``all`` as mPaaS spells them (``Android``/``iOS``/``all``)."""
    value = str(platform or "all")
    return PLATFORM_OUT.get(value.lower(), value)


def std(call: Call) -> dict[str, Any]:
    return {"ErrorCode": "", "RequestId": call.request_id}


def paged(call: Call, total: int, number: int, size: int) -> dict[str, Any]:
    """The wire's paging fields for page ``number`` of ``size`` out of ``total`` items."""
    return {
        **std(call),
        "CurrentPage": number,
        "PageSize": size,
        "TotalCount": total,
        "HasMore": number * size < total,
    }


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def release_target(params: dict[str, str], now: datetime, *, within: timedelta | None) -> dict[str, Any]:
    """The who-gets-it parameters every ``Create*Task`` action shares → our task data keys:
    ``PublishType`` → ``type``; for grey, ``PublishMode`` → ``grayModel`` with ``WhitelistIds`` →
    ``whitelistIds`` (whitelist) or ``GreyEndtimeData`` / ``GreyNum`` → ``endTime`` / ``usersCount``
    (time window); ``GreyConfigInfo`` → ``rules``. The service judges the combination (e.g. rules on an
    official task); this only reads what each parameter means."""
    from chalicelib.api.openapi_rules import rules_from_wire

    data: dict[str, Any] = {"type": publish_type(params)}
    if data["type"] == "gray":
        data["grayModel"] = publish_mode(params)
        if data["grayModel"] == "whitelist":
            ids = id_list(params, "WhitelistIds")
            if not ids:
                raise MissingParameter("WhitelistIds")
            data["whitelistIds"] = ids
        else:
            end = grey_end(params, now, within=within)
            if end is None:
                raise MissingParameter("GreyEndtimeData")
            data["endTime"] = end
            data["usersCount"] = integer(params, "GreyNum", required=True, low=1, high=10_000_000)
    rules = rules_from_wire(params.get("GreyConfigInfo"))
    if rules:
        data["rules"] = rules
    return data
