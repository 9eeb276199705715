"""A workspace's time zone: the zone in which times written without one are read and in which wire
times are written (mPaaS writes ``YYYY-MM-DD hh:mm:ss`` in UTC+8, so a script written for it must not
end its grey window eight hours late). The default is mPaaS's, ``Asia/Shanghai``.

Zones are IANA names (``Europe/Berlin``) or ``UTC``. Shanghai has had no daylight saving since 1991, so
where the IANA database is missing (a runtime without tzdata) the default is the fixed UTC+8 offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

from chalicelib.domain.errors import ValidationError

DEFAULT_TIME_ZONE = "Asia/Shanghai"
WIRE_FORMAT = "%Y-%m-%d %H:%M:%S"
_SHANGHAI = timezone(timedelta(hours=8), DEFAULT_TIME_ZONE)


def iso(moment: datetime) -> str:
    """Our one stored timestamp format: UTC, microseconds, sorts lexically in time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def zone(name: str | None) -> tzinfo:
    """The tzinfo of a zone name (None: the default)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = name or DEFAULT_TIME_ZONE
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name == DEFAULT_TIME_ZONE:
            return _SHANGHAI
        raise


def check_time_zone(value: object, field_name: str = "timeZone") -> str:
    """An IANA zone name or ``UTC``.

    Raises:
        ValidationError: naming ``field_name``.
    """
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValidationError(field_name, "must be an IANA time zone name such as Asia/Shanghai, or UTC")
    name = value.strip()
    try:
        zone(name)
    except Exception:  # noqa: BLE001 - ZoneInfo raises several kinds for a bad name
        raise ValidationError(
            field_name, f"{name} is not a known time zone (e.g. Asia/Shanghai, UTC)"
        ) from None
    return name


def read_local(text: str, tz: tzinfo) -> datetime:
    """``YYYY-MM-DD hh:mm:ss`` as a moment in ``tz``. Raises ValueError when not that form."""
    return datetime.strptime(text.strip(), WIRE_FORMAT).replace(tzinfo=tz)


def write_local(moment: datetime, tz: tzinfo) -> str:
    """A moment as ``YYYY-MM-DD hh:mm:ss`` in ``tz``."""
    return moment.astimezone(tz).strftime(WIRE_FORMAT)


def utc_offset(tz: tzinfo, at: datetime | None = None) -> str:
    """``+08:00``: the zone's offset now (or ``at``), as ISO-8601 writes it."""
    offset = (at or datetime.now(UTC)).astimezone(tz).utcoffset() or timedelta(0)
    sign, minutes = ("-" if offset < timedelta(0) else "+"), abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
