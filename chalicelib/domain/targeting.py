"""Who gets a release: the one rule engine behind every delivery decision (upgrades, H5, config, hotpatch).

A ``Target`` says which devices a release is for: a platform, client-version ranges, advanced rules
(city, model, network, OS version; include / exclude / in range / out of range), whitelist references
and a percentage rollout. **Everything in a target must match** (AND). ``compile_target`` turns a target
into a ``CompiledTarget`` once (lower-cased frozensets, version keys, merged intervals); its
``matches(device, membership)`` is then cheap enough to run per request and per manifest candidate.

The compiled form has a versioned, canonical JSON shape (``CompiledTarget.to_json``, ``"schema": 1``) that
manifests carry to devices, which run the same evaluation; docs/targeting.md is its specification.

Decisions (all in docs/targeting.md, "Semantics"):

- A device **without** the value a rule needs (no city, no OS version...) is *not in* any set or range: it
  fails include / in-range rules and passes exclude / out-of-range rules. So exclude is always exactly
  the complement of include (an unknown city can't be "in Shanghai", nor "in" an excluded city).
- Without a client version the device fails any client-version restriction.
- City and model compare case-insensitively (``strip().lower()``); networks through synonyms
  (``WIFI``/``Wi-Fi``/``wifi``/``WLAN`` are all Wi-Fi; ``LTE`` is 4G; ``NR`` is 5G).
- Whitelists and the rollout look at the device's ``identity``: its user ID, or its device ID when it
  has no user ID. Several whitelists: being in any one is enough.
- Checks run cheapest first: platform, client version, rules, rollout hash, then whitelist membership
  (the only check that may cost I/O, e.g. a shard fetch on a device).

Bad input raises ``ValidationError`` naming the field by its JSON path, e.g. ``rules[2].operation``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from chalicelib.domain.errors import MissingParameter, ValidationError
from chalicelib.domain.rollout import BUCKETS, Rollout, parse_percent
from chalicelib.domain.versions import RangeSet, Version, VersionRange, merge_ranges

SCHEMA = 1  # version of the compiled JSON form; bump on any change a schema-1 reader would misread

MAX_RULES = 32
MAX_VALUES = 1000  # per rule
MAX_RANGES = 100  # client-version ranges per target, and ranges per rule
MAX_WHITELISTS = 20
MAX_VALUE_LENGTH = 128


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _reraise_at(path: str, error: ValidationError) -> ValidationError:
    return ValidationError(_at(path, error.field or ""), error.rule)


# ----------------------------------------------------------------------------------------------- enums


class Platform(enum.StrEnum):
    """The platform a release is for. Devices are ``ANDROID`` or ``IOS``; ``ALL`` only targets."""

    ANDROID = "android"
    IOS = "ios"
    ALL = "all"

    @classmethod
    def parse(cls, value: object, field_name: str = "platform") -> Platform:
        """Case-insensitive: ``Android``, ``iOS``, ``all``...

        Raises:
            ValidationError: naming ``field_name``.
        """
        if isinstance(value, Platform):
            return value
        if isinstance(value, str):
            found = _PLATFORMS.get(value.strip().lower())
            if found is not None:
                return found
        raise ValidationError(field_name, "must be one of: android, ios, all")


_PLATFORMS = {p.value: p for p in Platform}


class RuleType(enum.StrEnum):
    """What an advanced rule looks at. mPaaS names (``mobileModel``, ``netType``) parse as aliases."""

    CITY = "city"
    MODEL = "model"
    NETWORK = "network"
    OS_VERSION = "osVersion"

    @classmethod
    def parse(cls, value: object, field_name: str = "type") -> RuleType:
        """Case-insensitive; also accepts the mPaaS ``ruleElement`` names.

        Raises:
            ValidationError: naming ``field_name``.
        """
        if isinstance(value, RuleType):
            return value
        if isinstance(value, str):
            found = _RULE_TYPES.get(value.strip().lower())
            if found is not None:
                return found
        raise ValidationError(field_name, "must be one of: city, model, network, osVersion")


_RULE_TYPES = {
    "city": RuleType.CITY,
    "model": RuleType.MODEL,
    "mobilemodel": RuleType.MODEL,
    "network": RuleType.NETWORK,
    "nettype": RuleType.NETWORK,
    "osversion": RuleType.OS_VERSION,
}
_RULE_TYPE_ORDER = {t: i for i, t in enumerate(RuleType)}


class Operation(enum.IntEnum):
    """The mPaaS rule operations. Ranges (3, 4) apply to ``osVersion`` only."""

    INCLUDE = 1
    EXCLUDE = 2
    IN_RANGE = 3
    OUT_OF_RANGE = 4

    @property
    def is_range(self) -> bool:
        return self >= Operation.IN_RANGE

    @property
    def is_positive(self) -> bool:
        """Include / in range: the device must be *in* the values."""
        return self in (Operation.INCLUDE, Operation.IN_RANGE)

    @classmethod
    def parse(cls, value: object, field_name: str = "operation") -> Operation:
        """``1``..``4``, as an integer or digit string (mPaaS ``RuleJsonList`` sends strings).

        Raises:
            ValidationError: naming ``field_name``.
        """
        if isinstance(value, Operation):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4:
            return cls(value)
        raise ValidationError(field_name, _OPERATION_RULE)


_OPERATION_RULE = "must be 1 (include), 2 (exclude), 3 (in range) or 4 (out of range)"


# ------------------------------------------------------------------------------------------- networks

#: Rule values a network rule accepts (the mPaaS release-rule resources), case-insensitively.
NETWORK_VALUES = ("2G", "3G", "4G", "5G", "Wi-Fi", "WLAN", "WWAN")

# Spelling (after strip + lower-case) → canonical token. WLAN is what Chinese ROMs call Wi-Fi; WWAN is
# what the iOS mPaaS SDK reports for any mobile network (the generation unknown).
_NETWORK_SYNONYMS = {
    "2g": "2g",
    "3g": "3g",
    "4g": "4g",
    "lte": "4g",
    "5g": "5g",
    "nr": "5g",
    "wifi": "wifi",
    "wi-fi": "wifi",
    "wi_fi": "wifi",
    "wi fi": "wifi",
    "wlan": "wifi",
    "wwan": "wwan",
    "cellular": "wwan",
}
#: Canonical tokens a network rule can hold.
NETWORK_TOKENS = frozenset(_NETWORK_SYNONYMS.values())
#: What a ``WWAN`` rule value stands for: any mobile network. A device reporting ``WWAN`` matches only
#: ``WWAN`` (its generation is unknown); one reporting ``4G`` matches ``4G`` and ``WWAN``.
CELLULAR_TOKENS = ("2g", "3g", "4g", "5g", "wwan")
#: The Android mPaaS SDK's ``NetworkUtils.getNetworkType`` codes (guide "resource configurations"),
#: read on the device side only: a rule value is a name, never a code.
_ANDROID_NETWORK_CODES = {"1": "2g", "2": "3g", "3": "wifi", "4": "4g"}


def normalize_network(value: str) -> str:
    """Canonical token of a network name (``"Wi-Fi"`` → ``"wifi"``, ``"LTE"`` → ``"4g"``, ``"WWAN"`` →
    ``"wwan"``); an unknown name comes back lower-cased (``"EDGE"`` → ``"edge"``) and so matches no rule
    value."""
    folded = value.strip().lower()
    return _NETWORK_SYNONYMS.get(folded, folded)


def reported_network(value: str) -> str:
    """Canonical token of the network a device reports: an Android mPaaS code (``"3"`` → ``"wifi"``)
    or a name as ``normalize_network`` reads it (iOS ``"WWAN"`` → ``"wwan"``)."""
    return _ANDROID_NETWORK_CODES.get(value.strip()) or normalize_network(value)


def normalize_text(value: str) -> str:
    """How city and model values compare: surrounding spaces dropped, lower-cased."""
    return value.strip().lower()


# ----------------------------------------------------------------------------------------------- rules


def _check_text(value: object, field_name: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(field_name, "must be a string")
    value = value.strip()
    if not value:
        raise ValidationError(field_name, "must not be empty")
    if len(value) > MAX_VALUE_LENGTH:
        raise ValidationError(field_name, f"must be at most {MAX_VALUE_LENGTH} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(field_name, "must not contain control characters")
    return value


@dataclass(frozen=True, slots=True)
class Rule:
    """One advanced rule. Include/exclude take ``values`` (a set: city names, models, networks, OS
    versions); in range/out of range take ``ranges`` of OS versions (a union of ranges).

    ``values`` keep what was written (spaces trimmed); matching normalises them.

    Raises:
        ValidationError: with the field relative to the rule (``operation``, ``values[3]``, ``ranges``...).
    """

    type: RuleType
    operation: Operation
    values: tuple[str, ...] = ()
    ranges: tuple[VersionRange, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.type, RuleType):
            raise ValidationError("type", "must be one of: city, model, network, osVersion")
        if not isinstance(self.operation, Operation):
            raise ValidationError("operation", _OPERATION_RULE)
        values = tuple(self.values) if isinstance(self.values, list | tuple) else self.values
        ranges = tuple(self.ranges) if isinstance(self.ranges, list | tuple) else self.ranges
        if not isinstance(values, tuple):
            raise ValidationError("values", "must be a list")
        if not isinstance(ranges, tuple):
            raise ValidationError("ranges", "must be a list")
        if self.operation.is_range:
            if self.type is not RuleType.OS_VERSION:
                raise ValidationError(
                    "operation", "3 (in range) and 4 (out of range) apply to osVersion rules only"
                )
            if values:
                raise ValidationError("values", "operations 3 and 4 take ranges, not values")
            if not ranges:
                raise ValidationError("ranges", "must not be empty")
            if len(ranges) > MAX_RANGES:
                raise ValidationError("ranges", f"must have at most {MAX_RANGES} ranges")
            for i, r in enumerate(ranges):
                if not isinstance(r, VersionRange):
                    raise ValidationError(f"ranges[{i}]", "must be a version range")
        else:
            if ranges:
                raise ValidationError("ranges", "only operations 3 and 4 take ranges")
            if not values:
                raise ValidationError("values", "must not be empty")
            if len(values) > MAX_VALUES:
                raise ValidationError("values", f"must have at most {MAX_VALUES} values")
            cleaned = []
            for i, raw in enumerate(values):
                value = _check_text(raw, f"values[{i}]")
                if self.type is RuleType.NETWORK and normalize_network(value) not in NETWORK_TOKENS:
                    raise ValidationError(f"values[{i}]", "must be one of: " + ", ".join(NETWORK_VALUES))
                if self.type is RuleType.OS_VERSION:
                    if not value[0].isdigit():  # a device OS version not starting with one is unknown
                        raise ValidationError(
                            f"values[{i}]", "an OS version must start with a number, e.g. 8.0"
                        )
                    Version.parse(value, f"values[{i}]")
                cleaned.append(value)
            values = tuple(cleaned)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "ranges", ranges)

    def to_json(self) -> dict[str, Any]:
        """The input form (values as written): ``{"type", "operation", "values"}`` or ``{..., "ranges"}``."""
        data: dict[str, Any] = {"type": self.type.value, "operation": int(self.operation)}
        if self.operation.is_range:
            data["ranges"] = [r.to_json() for r in self.ranges]
        else:
            data["values"] = list(self.values)
        return data


# ---------------------------------------------------------------------------------------------- target


@dataclass(frozen=True, slots=True)
class Target:
    """Which devices a release is for. Every part must match (AND).

    - ``platform``: ``ALL`` matches both platforms.
    - ``client_versions``: the device's client version must be in one of them; empty = every version.
    - ``rules``: advanced rules, all must match.
    - ``whitelist_ids``: the device's identity must be in one of them; empty = no whitelist restriction.
    - ``rollout``: a percentage of identities; ``None`` = everybody.

    Build from console/JSON input with ``parse_target``; ``compile()`` before matching.

    Raises:
        ValidationError: with the JSON field name (``clientVersions[1]``, ``whitelistIds[0]``...).
    """

    platform: Platform = Platform.ALL
    client_versions: tuple[VersionRange, ...] = ()
    rules: tuple[Rule, ...] = ()
    whitelist_ids: tuple[str, ...] = ()
    rollout: Rollout | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.platform, Platform):
            raise ValidationError("platform", "must be one of: android, ios, all")
        for attr, name, kind, limit in (
            ("client_versions", "clientVersions", VersionRange, MAX_RANGES),
            ("rules", "rules", Rule, MAX_RULES),
            ("whitelist_ids", "whitelistIds", object, MAX_WHITELISTS),  # checked below
        ):
            items = getattr(self, attr)
            if isinstance(items, list):
                items = tuple(items)
                object.__setattr__(self, attr, items)
            if not isinstance(items, tuple):
                raise ValidationError(name, "must be a list")
            if len(items) > limit:
                raise ValidationError(name, f"must have at most {limit} items")
            for i, item in enumerate(items):
                if not isinstance(item, kind):
                    raise ValidationError(f"{name}[{i}]", f"must be a {kind.__name__}")  # Rule, VersionRange
        object.__setattr__(
            self,
            "whitelist_ids",
            tuple(_check_whitelist_id(w, f"whitelistIds[{i}]") for i, w in enumerate(self.whitelist_ids)),
        )
        if self.rollout is not None and not isinstance(self.rollout, Rollout):
            raise ValidationError("rollout", "must be a rollout or null")

    def compile(self) -> CompiledTarget:
        return compile_target(self)

    def to_json(self) -> dict[str, Any]:
        """The input form, as written (``parse_target(t.to_json()) == t``); percent as basis points."""
        return {
            "platform": self.platform.value,
            "clientVersions": [r.to_json() for r in self.client_versions],
            "rules": [r.to_json() for r in self.rules],
            "whitelistIds": list(self.whitelist_ids),
            "rollout": _rollout_json(self.rollout),
        }


def _check_whitelist_id(value: object, field_name: str) -> str:
    value = _check_text(value, field_name)
    if any(c.isspace() or c == "," for c in value):
        raise ValidationError(field_name, "must not contain spaces or commas")
    return value


def _rollout_json(rollout: Rollout | None) -> dict[str, Any] | None:
    if rollout is None:
        return None
    return {"basisPoints": rollout.basis_points, "salt": rollout.salt}


# ---------------------------------------------------------------------------------------------- device


@dataclass(frozen=True, slots=True, init=False)
class Device:
    """What a device tells us about itself, plus the normalised forms matching uses.

    ``client_version``/``os_version`` accept strings: the client version is read with
    ``Version.parse_reported`` (``v10.2`` → ``10.2``, ``10.2.0-beta+5`` → ``10.2.0``; anything else that
    does not parse is a ``ValidationError``); the OS version is parsed leniently (``"12.0 beta"`` →
    ``12.0``, garbage → unknown), since it is whatever the OS reports. Empty strings count as absent.
    ``user_id``/``device_id`` may be JSON integers up to 2**53 - 1, read as their decimal text;
    ``net_type`` may be an Android mPaaS network code, as text or a JSON integer (``reported_network``).

    Derived (read-only): ``identity`` (user ID, else device ID, else ``None``), ``city_key``,
    ``model_key``, ``network_key`` (normalised strings or ``None``), ``client_key``/``os_key`` (version
    keys or ``None``).

    Raises:
        ValidationError: naming the JSON field (``platform``, ``clientVersion``, ``userId``...).
    """

    platform: Platform
    user_id: str | None
    device_id: str | None
    client_version: Version | None
    os_version: Version | None
    model: str | None
    city: str | None
    net_type: str | None
    channel: str | None
    identity: str | None = field(repr=False, compare=False)
    city_key: str | None = field(repr=False, compare=False)
    model_key: str | None = field(repr=False, compare=False)
    network_key: str | None = field(repr=False, compare=False)
    client_key: tuple | None = field(repr=False, compare=False)
    os_key: tuple | None = field(repr=False, compare=False)

    # Hand-written because a frozen dataclass's generated __init__ costs ~1 µs more, and a Device is
    # built on every device request.
    def __init__(
        self,
        platform: Platform | str,
        *,
        user_id: str | int | None = None,
        device_id: str | int | None = None,
        client_version: Version | str | None = None,
        os_version: Version | str | None = None,
        model: str | None = None,
        city: str | None = None,
        net_type: str | int | None = None,
        channel: str | None = None,
    ) -> None:
        set_ = object.__setattr__
        if platform.__class__ is not Platform:
            platform = Platform.parse(platform)
        if platform is Platform.ALL:
            raise ValidationError("platform", "must be android or ios")
        if user_id.__class__ is int:
            user_id = _integer_id(user_id, "userId")
        if device_id.__class__ is int:
            device_id = _integer_id(device_id, "deviceId")
        if net_type.__class__ is int:  # the Android SDK's network code as a JSON number
            net_type = str(net_type)
        for value, name in (
            (user_id, "userId"),
            (device_id, "deviceId"),
            (model, "model"),
            (city, "city"),
            (net_type, "netType"),
            (channel, "channel"),
        ):
            if value is not None and value.__class__ is not str and not isinstance(value, str):
                raise ValidationError(name, "must be a string")
        if client_version is not None and client_version.__class__ is not Version:
            if not isinstance(client_version, str):
                raise ValidationError("clientVersion", "must be a version string")
            client_version = (
                Version.parse_reported(client_version, "clientVersion") if client_version else None
            )
        if os_version is not None and os_version.__class__ is not Version:
            if not isinstance(os_version, str):
                raise ValidationError("osVersion", "must be a version string")
            os_version = Version.parse_lenient(os_version)
        set_(self, "platform", platform)
        set_(self, "user_id", user_id)
        set_(self, "device_id", device_id)
        set_(self, "client_version", client_version)
        set_(self, "os_version", os_version)
        set_(self, "model", model)
        set_(self, "city", city)
        set_(self, "net_type", net_type)
        set_(self, "channel", channel)
        set_(self, "identity", user_id or device_id or None)
        set_(self, "city_key", None if city is None else city.strip().lower() or None)
        set_(self, "model_key", None if model is None else model.strip().lower() or None)
        # net_type is None or a string here (an int was turned into its text, anything else raised)
        set_(self, "network_key", reported_network(net_type) or None if isinstance(net_type, str) else None)
        set_(self, "client_key", None if client_version is None else client_version.key)
        set_(self, "os_key", None if os_version is None else os_version.key)

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> Device:
        """Read the device context as clients send it: ``platform`` (required), ``userId``,
        ``deviceId``, ``clientVersion``, ``osVersion``, ``model``, ``city``, ``netType``, ``channel``.
        Other keys are ignored; empty strings count as absent.

        Raises:
            ValidationError: naming the key.
        """
        if "platform" not in context or context["platform"] in (None, ""):
            raise MissingParameter("platform")
        get = context.get
        return cls(
            Platform.parse(context["platform"]),
            user_id=_given(get("userId")),
            device_id=_given(get("deviceId")),
            client_version=get("clientVersion") or None,
            os_version=get("osVersion") or None,
            model=get("model") or None,
            city=get("city") or None,
            net_type=get("netType") or None,
            channel=get("channel") or None,
        )


def _given(value: Any) -> Any:
    """Absent for ``None`` and ``""``; anything else (``0`` too) is checked by ``Device``."""
    return None if value is None or value == "" else value


MAX_SAFE_INTEGER = 2**53 - 1  # the largest integer every JSON reader (JavaScript's too) reads exactly


def _integer_id(value: int, field_name: str) -> str:
    """A JSON integer ID as its decimal text (``12345`` is the user ``"12345"``)."""
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise ValidationError(
            field_name, f"an integer ID must be at most {MAX_SAFE_INTEGER}; send it as a string"
        )
    return str(value)


class WhitelistMembership(Protocol):
    """Answers "is this identity on that whitelist?" — in-memory sets on the server, salted-hash shards
    on a device. The caller provides it; targets only hold whitelist IDs."""

    def contains(self, whitelist_id: str, user_id: str) -> bool: ...


# ------------------------------------------------------------------------------------------ compiling

_DEVICE_KEY = {
    RuleType.CITY: "city_key",
    RuleType.MODEL: "model_key",
    RuleType.NETWORK: "network_key",
    RuleType.OS_VERSION: "os_key",
}


class _KeyRanges:
    """A ``RangeSet`` that answers ``key in ranges`` for version keys (``None`` is in nothing)."""

    __slots__ = ("contains_key",)

    def __init__(self, ranges: RangeSet) -> None:
        self.contains_key = ranges.contains_key

    def __contains__(self, key: tuple | None) -> bool:
        return key is not None and self.contains_key(key)


def _canonical_range(r: VersionRange) -> dict[str, Any]:
    return {
        "min": None if r.min is None else r.min.canonical,
        "max": None if r.max is None else r.max.canonical,
        "minInclusive": r.min_inclusive,
        "maxInclusive": r.max_inclusive,
    }


def _canonical_rule(rule: Rule) -> dict[str, Any]:
    data: dict[str, Any] = {"type": rule.type.value, "operation": int(rule.operation)}
    if rule.operation.is_range:
        data["ranges"] = [_canonical_range(r) for r in merge_ranges(rule.ranges)]
    elif rule.type is RuleType.OS_VERSION:
        versions = {(v := Version.parse(text)).key: v for text in rule.values}
        data["values"] = [versions[key].canonical for key in sorted(versions)]
    elif rule.type is RuleType.NETWORK:
        tokens = {normalize_network(v) for v in rule.values}
        data["values"] = sorted(tokens | set(CELLULAR_TOKENS) if "wwan" in tokens else tokens)
    else:
        data["values"] = sorted({normalize_text(v) for v in rule.values})
    return data


def _rule_sort_key(data: dict[str, Any]) -> tuple[int, int, str]:
    return (
        _RULE_TYPE_ORDER[RuleType(data["type"])],
        data["operation"],
        json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
    )


_sha256 = hashlib.sha256
_from_bytes = int.from_bytes


class CompiledTarget:
    """A target compiled for fast, repeated matching; also the canonical JSON form (schema 1).

    Build with ``compile_target`` (or ``Target.compile``) or ``CompiledTarget.from_json``.
    """

    __slots__ = (
        "platform",
        "client_versions",
        "whitelist_ids",
        "rollout",
        "_json",
        "_canonical",
        "_platform",
        "_versions",
        "_checks",
        "_basis_points",
        "_salt_prefix",
    )
    # the slots' types (set once, with object.__setattr__, in __init__)
    platform: Platform
    client_versions: tuple[VersionRange, ...]
    whitelist_ids: tuple[str, ...]
    rollout: Rollout | None
    _json: dict[str, Any]
    _canonical: str
    _platform: Platform | None
    _versions: RangeSet | None
    _checks: tuple[tuple[str, Any, bool], ...]
    _basis_points: int | None
    _salt_prefix: str

    def __init__(self, target: Target) -> None:
        set_ = object.__setattr__
        unique_rules = {json.dumps(d, sort_keys=True): d for d in map(_canonical_rule, target.rules)}
        rules = sorted(unique_rules.values(), key=_rule_sort_key)
        client_versions = merge_ranges(target.client_versions)
        whitelist_ids = tuple(sorted(set(target.whitelist_ids)))
        rollout = target.rollout
        # Public, read-only views (the manifests compute segments from ``client_versions``).
        set_(self, "platform", target.platform)
        set_(self, "client_versions", client_versions)
        set_(self, "whitelist_ids", whitelist_ids)
        set_(self, "rollout", rollout)
        body = {
            "schema": SCHEMA,
            "platform": target.platform.value,
            "clientVersions": [_canonical_range(r) for r in client_versions],
            "rules": rules,
            "whitelistIds": list(whitelist_ids),
            "rollout": _rollout_json(rollout),
        }
        set_(self, "_json", body)
        set_(self, "_canonical", json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
        # The evaluation plan, built from the canonical rules so JSON and behaviour cannot drift.
        set_(self, "_platform", None if target.platform is Platform.ALL else target.platform)
        set_(self, "_versions", RangeSet(client_versions) if client_versions else None)
        checks = []
        for data in rules:
            rule_type, operation = RuleType(data["type"]), Operation(data["operation"])
            container: Any
            if operation.is_range:
                container = _KeyRanges(RangeSet(VersionRange.from_json(r) for r in data["ranges"]))
            elif rule_type is RuleType.OS_VERSION:
                container = frozenset(Version.parse(v).key for v in data["values"])
            else:
                container = frozenset(data["values"])
            checks.append((_DEVICE_KEY[rule_type], container, operation.is_positive))
        set_(self, "_checks", tuple(checks))
        everybody = rollout is None or rollout.basis_points >= BUCKETS
        set_(self, "_basis_points", None if everybody else rollout.basis_points)  # type: ignore[union-attr]
        set_(self, "_salt_prefix", "" if rollout is None else rollout.salt + ":")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"CompiledTarget is immutable (tried to set {name})")

    def __eq__(self, other: object) -> bool:
        """Equal iff the canonical JSON is equal (which implies the same behaviour)."""
        if not isinstance(other, CompiledTarget):
            return NotImplemented
        return self._canonical == other._canonical

    def __hash__(self) -> int:
        return hash(self._canonical)

    def matches(self, device: Device, membership: WhitelistMembership | None = None) -> bool:
        """Whether ``device`` is targeted. ``membership`` is needed only when ``whitelist_ids`` is set.

        Raises:
            ValueError: the target references whitelists and no ``membership`` was given.
        """
        whitelist_ids = self.whitelist_ids
        if whitelist_ids and membership is None:  # fail on every call, not only when a device gets far
            raise ValueError("this target references whitelists: pass a WhitelistMembership")
        platform = self._platform
        if platform is not None and device.platform is not platform:
            return False
        versions = self._versions
        if versions is not None:
            key = device.client_key
            if key is None or not versions.contains_key(key):
                return False
        for attr, container, positive in self._checks:
            if (getattr(device, attr) in container) is not positive:
                return False
        basis_points = self._basis_points
        if basis_points is not None:
            identity = device.identity
            if not identity or not basis_points:
                return False
            digest = _sha256((self._salt_prefix + identity).encode()).digest()
            if _from_bytes(digest[:8], "big") % BUCKETS >= basis_points:
                return False
        if whitelist_ids:
            identity = device.identity
            if not identity:
                return False
            for whitelist_id in whitelist_ids:
                if membership.contains(whitelist_id, identity):  # type: ignore[union-attr]
                    return True
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        """The canonical schema-1 form (docs/targeting.md): sorted, de-duplicated, normalised values,
        merged ranges, shortest version texts, integers only. Equal input → byte-identical JSON."""
        return json.loads(json.dumps(self._json))  # a deep copy the caller may modify

    @classmethod
    def from_json(cls, data: object) -> CompiledTarget:
        """Read a schema-1 form (what ``to_json`` writes; the input form of ``parse_target`` is
        accepted too, with ``"schema": 1``).

        Raises:
            ValidationError: ``schema`` missing or not 1, or any field invalid (named by its path).
        """
        if not isinstance(data, dict):
            raise ValidationError("target", "must be an object")
        schema = data.get("schema")
        if isinstance(schema, bool) or schema != SCHEMA:
            raise ValidationError("schema", f"must be {SCHEMA} (the only schema this reader knows)")
        return cls(parse_target(data))

    def __repr__(self) -> str:
        return f"CompiledTarget({self._canonical})"


def compile_target(target: Target) -> CompiledTarget:
    """Compile ``target`` once for fast ``matches`` and for its canonical JSON."""
    if not isinstance(target, Target):
        raise TypeError("compile_target needs a Target (use parse_target for JSON input)")
    return CompiledTarget(target)


# --------------------------------------------------------------------------------------------- parsing

_TARGET_FIELDS = frozenset({"schema", "platform", "clientVersions", "rules", "whitelistIds", "rollout"})
_RULE_FIELDS = frozenset({"type", "operation", "values", "ranges"})
_ROLLOUT_FIELDS = frozenset({"percent", "basisPoints", "salt"})


def _object(data: object, path: str, known: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(path or what, "must be an object")
    for name in data:
        if name not in known:
            raise ValidationError(_at(path, str(name)), "unknown field")
    return data


def _list(data: object, path: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise ValidationError(path, "must be a list")
    return data


def parse_target(data: object, *, path: str = "") -> Target:
    """Validate the JSON/console form of a target (docs/targeting.md, "Input form") into a ``Target``.

    Every key is optional (``platform`` defaults to ``all``); unknown keys are errors. Rules take
    ``values`` (include/exclude) or ``ranges`` (in/out of range, as ``{"min", "max"}`` objects or
    ``"min-max"`` strings, also accepted in ``values``). The rollout takes ``percent`` (up to two
    decimals) or ``basisPoints``, and a ``salt``.

    Args:
        path: prefix for error fields when the target sits inside a larger document, e.g. ``"target"``.

    Raises:
        ValidationError: the first problem, named by its path, e.g. ``rules[2].operation``.
    """
    body = _object(data, path, _TARGET_FIELDS, "target")
    if "schema" in body and (isinstance(body["schema"], bool) or body["schema"] != SCHEMA):
        raise ValidationError(_at(path, "schema"), f"must be {SCHEMA}")
    platform = Platform.parse(body.get("platform", "all"), _at(path, "platform"))

    versions_path = _at(path, "clientVersions")
    raw_versions = _list(body.get("clientVersions"), versions_path)
    if len(raw_versions) > MAX_RANGES:
        raise ValidationError(versions_path, f"must have at most {MAX_RANGES} items")
    client_versions = tuple(
        VersionRange.from_json(r, f"{versions_path}[{i}]") for i, r in enumerate(raw_versions)
    )

    rules_path = _at(path, "rules")
    raw_rules = _list(body.get("rules"), rules_path)
    if len(raw_rules) > MAX_RULES:
        raise ValidationError(rules_path, f"must have at most {MAX_RULES} rules")
    rules = tuple(_parse_rule(r, f"{rules_path}[{i}]") for i, r in enumerate(raw_rules))

    whitelists_path = _at(path, "whitelistIds")
    raw_whitelists = _list(body.get("whitelistIds"), whitelists_path)
    if len(raw_whitelists) > MAX_WHITELISTS:
        raise ValidationError(whitelists_path, f"must have at most {MAX_WHITELISTS} items")
    whitelist_ids = tuple(
        _check_whitelist_id(w, f"{whitelists_path}[{i}]") for i, w in enumerate(raw_whitelists)
    )

    rollout = _parse_rollout(body.get("rollout"), _at(path, "rollout"))
    try:
        return Target(platform, client_versions, rules, whitelist_ids, rollout)
    except ValidationError as exc:  # pragma: no cover - every part was checked above
        raise _reraise_at(path, exc) from None


def _parse_rule(data: object, path: str) -> Rule:
    body = _object(data, path, _RULE_FIELDS, "rule")
    if "type" not in body:
        raise MissingParameter(_at(path, "type"))
    if "operation" not in body:
        raise MissingParameter(_at(path, "operation"))
    rule_type = RuleType.parse(body["type"], _at(path, "type"))
    operation = Operation.parse(body["operation"], _at(path, "operation"))
    values = _list(body.get("values"), _at(path, "values"))
    ranges_raw = _list(body.get("ranges"), _at(path, "ranges"))
    ranges = [VersionRange.from_json(r, f"{path}.ranges[{i}]") for i, r in enumerate(ranges_raw)]
    if operation.is_range and rule_type is RuleType.OS_VERSION and values and not ranges:
        # mPaaS style: "8.0-12.0" strings
        ranges = [VersionRange.parse(v, f"{path}.values[{i}]") for i, v in enumerate(values)]
        values = []
    try:
        return Rule(rule_type, operation, tuple(values), tuple(ranges))
    except ValidationError as exc:
        raise _reraise_at(path, exc) from None


def _parse_rollout(data: object, path: str) -> Rollout | None:
    if data is None:
        return None
    body = _object(data, path, _ROLLOUT_FIELDS, "rollout")
    if ("percent" in body) == ("basisPoints" in body):
        raise ValidationError(_at(path, "percent"), "give exactly one of percent or basisPoints")
    if "percent" in body:
        basis_points = parse_percent(body["percent"], _at(path, "percent"))
    else:
        raw = body["basisPoints"]
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= BUCKETS:
            raise ValidationError(_at(path, "basisPoints"), f"must be an integer from 0 to {BUCKETS}")
        basis_points = raw
    if "salt" not in body:
        raise MissingParameter(_at(path, "salt"))
    try:
        return Rollout(basis_points, body["salt"])
    except ValidationError as exc:
        raise _reraise_at(path, exc) from None
