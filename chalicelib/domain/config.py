"""Switch configuration: keys whose values devices read, with targeted values (docs/config.md).

An item is a **key** (immutable, ``^[A-Za-z0-9_.\\-]{1,128}$``, unique in its workspace), a **type**
(string, number, boolean, json — every value is validated against it), a **platform** (android, ios,
all), a note, an optional **default value** and an ordered list of **targeted values**: a value plus a
target in the one rule engine's input form (client versions, advanced rules, whitelists, percentage
rollout — ``domain.targeting``).

**The one resolution order** (used by the manifests, the device client and the dynamic API, because
all three run ``domain.delivery.decide_each`` on the candidates built here): a key's targeted values
in their order, the first whose target matches the device wins; otherwise the default value; otherwise
the key has no value for that device (the app uses its own built-in default).

Values are kept as text, as mPaaS clients read them (``getConfig`` returns a string): numbers as JSON
number text, booleans as ``true``/``false``, JSON as its text. Native JSON input (``true``, ``3``, an
object) is accepted and turned into that text, so an export always imports back unchanged.

A rollout without a ``salt`` gets ``config:<key>``: stable per key across edits, so raising a
percentage only ever adds users.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.errors import MissingParameter, ValidationError
from chalicelib.domain.targeting import Device, Platform, Target, parse_target

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
KEY_RULE = "must be 1-128 characters: letters, digits, '_', '.' or '-'"
MAX_VALUE_BYTES = 16 * 1024
MAX_TARGETED_VALUES = 50
MAX_ITEM_BYTES = 128 * 1024  # DynamoDB items are at most 400 KB; history keeps a copy per version
MAX_NOTE_LENGTH = 500
MAX_IMPORT_ITEMS = 10_000
INTERVAL_KEY = "Load_Config_Interval"  # seconds between loads on the client (mPaaS name)
DEFAULT_INTERVAL_SECONDS = 30 * 60
EXPORT_SCHEMA = 1

_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$")  # JSON number grammar
_ITEM_FIELDS = frozenset({"key", "type", "platform", "note", "value", "targetedValues", "active"})
_TARGET_FIELDS = frozenset({"platform", "clientVersions", "rules", "whitelistIds", "rollout"})


class ValueType(enum.StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    JSON = "json"

    @classmethod
    def parse(cls, value: object, field_name: str = "type") -> ValueType:
        if isinstance(value, ValueType):
            return value
        if isinstance(value, str) and value.strip().lower() in _TYPES:
            return _TYPES[value.strip().lower()]
        raise ValidationError(field_name, "must be one of: string, number, boolean, json")


_TYPES = {t.value: t for t in ValueType}


def check_key(value: object, field_name: str = "key") -> str:
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        raise ValidationError(field_name, KEY_RULE)
    return value


def normalize_value(value_type: ValueType, value: object, field_name: str = "value") -> str:
    """The stored text of ``value`` for ``value_type``.

    Raises:
        ValidationError: the value does not match the type (or is too long).
    """
    if value is None:
        raise MissingParameter(field_name)
    if value_type is ValueType.STRING:
        if not isinstance(value, str):
            raise ValidationError(field_name, "must be a string (the item's type is string)")
        text = value
    elif value_type is ValueType.NUMBER:
        if isinstance(value, bool):
            raise ValidationError(field_name, "must be a number (the item's type is number)")
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise ValidationError(field_name, "must be a finite number")
            text = json.dumps(value)
        elif isinstance(value, str) and _NUMBER.match(value.strip()):
            text = value.strip()
            if not math.isfinite(float(text)):
                raise ValidationError(field_name, "must be a finite number")
        else:
            raise ValidationError(field_name, "must be a number, e.g. 42 or 0.5 (the item's type is number)")
    elif value_type is ValueType.BOOLEAN:
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str) and value.strip().lower() in ("true", "false"):
            text = value.strip().lower()
        else:
            raise ValidationError(field_name, "must be true or false (the item's type is boolean)")
    else:
        if isinstance(value, str):
            try:
                json.loads(value)
            except ValueError:
                raise ValidationError(
                    field_name, "must be valid JSON text (the item's type is json)"
                ) from None
            text = value.strip()
        else:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode()) > MAX_VALUE_BYTES:
        raise ValidationError(field_name, f"must be at most {MAX_VALUE_BYTES} bytes")
    return text


def typed_value(value_type: ValueType | str, text: str) -> Any:
    """What an app gets from ``get_config``: str, int/float, bool, or the parsed JSON."""
    value_type = ValueType(value_type)
    if value_type is ValueType.NUMBER:
        number = float(text)
        return int(text) if re.fullmatch(r"-?\d+", text) else number
    if value_type is ValueType.BOOLEAN:
        return text == "true"
    if value_type is ValueType.JSON:
        return json.loads(text)
    return text


@dataclass(frozen=True)
class TargetedValue:
    value: str
    target: Target


@dataclass(frozen=True)
class ConfigItem:
    """The content of a configuration item (what history keeps and export writes)."""

    key: str
    type: ValueType
    platform: Platform = Platform.ALL
    note: str = ""
    value: str | None = None  # the default value
    targeted: tuple[TargetedValue, ...] = ()
    active: bool = True

    def to_json(self) -> dict[str, Any]:
        """The input/export form; ``parse_item(item.to_json()) == item``."""
        data: dict[str, Any] = {
            "key": self.key,
            "type": self.type.value,
            "platform": self.platform.value,
            "note": self.note,
            "active": self.active,
        }
        if self.value is not None:
            data["value"] = self.value
        data["targetedValues"] = [{"value": t.value, **_target_json(t.target)} for t in self.targeted]
        return data

    def matches_keyword(self, keyword: str) -> bool:
        """Case-insensitive search over the key, the note and every value."""
        needle = keyword.strip().lower()
        haystack = [self.key, self.note, self.value or "", *(t.value for t in self.targeted)]
        return any(needle in text.lower() for text in haystack)

    def for_platform(self, platform: Platform) -> bool:
        return self.platform in (Platform.ALL, platform)


def _target_json(target: Target) -> dict[str, Any]:
    """The target's input form without the empty parts (compact exports)."""
    data = target.to_json()
    return {k: v for k, v in data.items() if v not in (None, [], "all")}


def parse_item(data: object, *, path: str = "") -> ConfigItem:
    """Validate one item in its input form (docs/config.md, "Item").

    Raises:
        ValidationError: the first problem, named by its path, e.g. ``targetedValues[1].rollout.percent``.
    """

    def at(name: str) -> str:
        return f"{path}.{name}" if path else name

    if not isinstance(data, dict):
        raise ValidationError(path or "item", "must be an object")
    for name in data:
        if name not in _ITEM_FIELDS:
            raise ValidationError(at(str(name)), "unknown field")
    if "key" not in data:
        raise MissingParameter(at("key"))
    key = check_key(data["key"], at("key"))
    if "type" not in data:
        raise MissingParameter(at("type"))
    value_type = ValueType.parse(data["type"], at("type"))
    platform = Platform.parse(data.get("platform", "all"), at("platform"))
    note = data.get("note") if data.get("note") is not None else ""
    if not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH:
        raise ValidationError(at("note"), f"must be a string of at most {MAX_NOTE_LENGTH} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in note):
        raise ValidationError(at("note"), "must not contain control characters")
    active = data.get("active", True)
    if not isinstance(active, bool):
        raise ValidationError(at("active"), "must be true or false")
    default = None
    if data.get("value") is not None:
        default = normalize_value(value_type, data["value"], at("value"))
    raw_targeted = data.get("targetedValues") or []
    if not isinstance(raw_targeted, list):
        raise ValidationError(at("targetedValues"), "must be a list")
    if len(raw_targeted) > MAX_TARGETED_VALUES:
        raise ValidationError(at("targetedValues"), f"must have at most {MAX_TARGETED_VALUES} values")
    targeted = tuple(
        _parse_targeted(raw, key, value_type, platform, at(f"targetedValues[{i}]"))
        for i, raw in enumerate(raw_targeted)
    )
    if default is None and not targeted:
        raise ValidationError(at("value"), "an item needs a value: a default value or targeted values")
    item = ConfigItem(key, value_type, platform, note.strip(), default, targeted, active)
    size = len(json.dumps(item.to_json(), ensure_ascii=False).encode())
    if size > MAX_ITEM_BYTES:
        raise ValidationError(at("targetedValues"), f"the item is {size} bytes; at most {MAX_ITEM_BYTES}")
    return item


def _parse_targeted(
    raw: object, key: str, value_type: ValueType, platform: Platform, path: str
) -> TargetedValue:
    if not isinstance(raw, dict):
        raise ValidationError(path, "must be an object with a value and a target")
    if "value" not in raw:
        raise MissingParameter(f"{path}.value")
    value = normalize_value(value_type, raw["value"], f"{path}.value")
    target_data = {k: v for k, v in raw.items() if k != "value"}
    rollout = target_data.get("rollout")
    if isinstance(rollout, dict) and "salt" not in rollout:
        target_data["rollout"] = {**rollout, "salt": f"config:{key}"}
    target = parse_target(target_data, path=path)
    if (
        not target.whitelist_ids
        and not target.rules
        and not target.client_versions
        and target.rollout is None
    ):
        if target.platform in (Platform.ALL, platform):
            raise ValidationError(
                path, "a targeted value needs a target (clientVersions, rules, whitelistIds or rollout)"
            )
    if platform is not Platform.ALL and target.platform not in (Platform.ALL, platform):
        raise ValidationError(f"{path}.platform", f"must be {platform.value} or all, as the item's platform")
    return TargetedValue(value, target)


def parse_import(data: object) -> list[object]:
    """The item list of an import document: ``{"items": [...]}`` (what export writes) or a bare list.

    Raises:
        ValidationError: not such a document, or more than ``MAX_IMPORT_ITEMS`` items.
    """
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValidationError("items", 'must be a list of items, or a document {"items": [...]}')
    if len(items) > MAX_IMPORT_ITEMS:
        raise ValidationError("items", f"must have at most {MAX_IMPORT_ITEMS} items per import")
    return items


def export_document(items: Sequence[ConfigItem]) -> dict[str, Any]:
    return {"schema": EXPORT_SCHEMA, "items": [i.to_json() for i in sorted(items, key=lambda i: i.key)]}


# --- delivery --------------------------------------------------------------------------------------

PREFIX = "config:"
_UNRESTRICTED = Target().compile()  # a default value: every device of the manifest's platform


def candidates(item: ConfigItem, platform: Platform) -> list[Candidate]:
    """The item's candidates for ``platform`` in resolution order: targeted values in order, then the
    default (unrestricted). Subject = the key, so a device gets at most one value per key; payload =
    ``{"value", "type"}``, the answer's entry for the key."""
    if not item.active or not item.for_platform(platform):
        return []
    value_type = item.type.value
    found = []
    for i, targeted in enumerate(item.targeted):
        if targeted.target.platform not in (Platform.ALL, platform):
            continue
        found.append(
            Candidate(
                id=f"{PREFIX}{item.key}:{i}",
                target=targeted.target.compile(),  # the manifest is per platform already
                payload={"value": targeted.value, "type": value_type},
                subject=item.key,
            )
        )
    if item.value is not None:
        found.append(
            Candidate(
                id=f"{PREFIX}{item.key}:default",
                target=_UNRESTRICTED,
                payload={"value": item.value, "type": value_type},
                subject=item.key,
            )
        )
    return found


CONSTANT_SUBJECT = ""  # no key is empty
CONSTANT_ID = f"{PREFIX}*"


def manifest_candidates(items: Sequence[ConfigItem], platform: Platform) -> list[Candidate]:
    """Every item's candidates for the ``platform`` manifest. Items whose only candidate there is an
    unrestricted default (most keys: a plain value) have nothing to decide, so they travel together in
    one unrestricted candidate (subject ``""``, payload ``{"configs": {key: entry}}``): the same
    answer for every device, a smaller manifest, and one evaluation instead of one per key."""
    constant: dict[str, Any] = {}
    found: list[Candidate] = []
    for item in items:
        own = candidates(item, platform)
        if len(own) == 1 and own[0].target is _UNRESTRICTED:
            constant[item.key] = own[0].payload
        else:
            found.extend(own)
    if constant:
        bundle = {"configs": dict(sorted(constant.items()))}
        found.insert(0, Candidate(CONSTANT_ID, _UNRESTRICTED, bundle, subject=CONSTANT_SUBJECT))
    return found


def answer(chosen: Mapping[str, Candidate], device: Device) -> dict[str, Any]:
    """The client answer: every key that has a value for this device, ``{key: {"value", "type"}}``
    (each candidate's payload is exactly that entry, so answering copies no values)."""
    configs: dict[str, Any] = {}
    for subject, candidate in chosen.items():
        if subject == CONSTANT_SUBJECT:
            configs.update(candidate.payload["configs"])
        else:
            configs[subject] = candidate.payload
    return {"configs": configs}


def interval_seconds(configs: Mapping[str, Mapping[str, Any]]) -> float:
    """The client's refresh interval: ``Load_Config_Interval`` (seconds) if delivered and valid."""
    entry = configs.get(INTERVAL_KEY)
    if entry is not None:
        try:
            seconds = float(entry["value"])
        except (TypeError, ValueError, KeyError):
            return DEFAULT_INTERVAL_SECONDS
        if math.isfinite(seconds) and seconds > 0:
            return seconds
    return DEFAULT_INTERVAL_SECONDS


# --- history ---------------------------------------------------------------------------------------


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Field-by-field changes between two item forms (``to_json``); targeted values by position."""
    before, after = before or {}, after or {}
    changes = []
    for name in ("type", "platform", "note", "active", "value"):
        if before.get(name) != after.get(name):
            changes.append({"field": name, "before": before.get(name), "after": after.get(name)})
    old, new = before.get("targetedValues") or [], after.get("targetedValues") or []
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else None
        b = new[i] if i < len(new) else None
        if a != b:
            changes.append({"field": f"targetedValues[{i}]", "before": a, "after": b})
    return changes
