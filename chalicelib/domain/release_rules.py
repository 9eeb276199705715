"""Release-rule resources: the named values (a city, a device model, a network, an OS version) that
advanced rules of gray releases pick from (guide §8). Matching uses the value only; the name is for
display. A rule value that is no defined release rule is still allowed (free text), but the answer
that saved it carries a warning naming it (``undefined_values``): a typo in a city otherwise silently
matches nobody."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.targeting import (
    NETWORK_VALUES,
    Platform,
    Rule,
    RuleType,
    normalize_network,
    normalize_text,
)
from chalicelib.domain.text import checked_text
from chalicelib.domain.versions import Version

MAX_NAME = 64
MAX_VALUE = 128
MAX_BATCH = 30  # one all-or-nothing DynamoDB transaction holds the rules, their guards and audit entries


@dataclass(frozen=True)
class ReleaseRule:
    id: str
    rule_type: RuleType
    platform: Platform
    name: str
    value: str
    created_at: str
    created_by: str
    updated_at: str
    version: int | None = None

    def view(self) -> dict:
        return {
            "ruleId": self.id,
            "type": self.rule_type.value,
            "platform": self.platform.value,
            "name": self.name,
            "value": self.value,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "updatedAt": self.updated_at,
            "version": self.version,
        }

    @property
    def identity(self) -> str:
        """What makes two rules duplicates: same type, platform and value (case-insensitively)."""
        return f"{self.rule_type.value}#{self.platform.value}#{self.value.casefold()}"


def validate_value(rule_type: RuleType, value: object) -> str:
    """Type-specific: a network must be one of the known names; an OS version must parse as a version."""
    text = checked_text("value", value, max_len=MAX_VALUE)
    if rule_type is RuleType.NETWORK:
        exact = [known for known in NETWORK_VALUES if known.casefold() == text.casefold()]
        synonyms = [known for known in NETWORK_VALUES if normalize_network(known) == normalize_network(text)]
        if exact or synonyms:
            return (exact or synonyms)[0]  # "wifi" → "Wi-Fi"; "WLAN" stays "WLAN"
        raise ValidationError("value", f"a network must be one of: {', '.join(NETWORK_VALUES)}")
    if rule_type is RuleType.OS_VERSION:
        if not text[0].isdigit():
            raise ValidationError("value", "an OS version must start with a number, e.g. 8.0 or 12.1.2")
        Version.parse(text, "value")
    return text


def build(
    *, rule_id: str, rule_type: object, platform: object, name: object, value: object, at: str, by: str
) -> ReleaseRule:
    kind = RuleType.parse(rule_type, "type")
    return ReleaseRule(
        id=rule_id,
        rule_type=kind,
        platform=Platform.parse(platform, "platform"),
        name=checked_text("name", name, max_len=MAX_NAME),
        value=validate_value(kind, value),
        created_at=at,
        created_by=by,
        updated_at=at,
    )


def _key(rule_type: RuleType, value: str) -> str:
    return normalize_network(value) if rule_type is RuleType.NETWORK else normalize_text(value)


def undefined_values(
    rules: Sequence[Rule], defined: Iterable[ReleaseRule], *, platform: Platform
) -> list[dict[str, str]]:
    """Warnings ``{"field": "rules[0].values[1]", "message": ...}`` for each value of ``rules`` that no
    release rule of its type (for ``platform``, or for all platforms) defines. OS-version ranges are
    intervals, not values, and are not checked."""
    known: dict[RuleType, set[str]] = {}
    for r in defined:
        if Platform.ALL in (r.platform, platform) or r.platform is platform:
            known.setdefault(r.rule_type, set()).add(_key(r.rule_type, r.value))
    warnings = []
    for i, rule in enumerate(rules):
        choices = known.get(rule.type, set())
        for j, value in enumerate(rule.values):
            if _key(rule.type, value) not in choices:
                warnings.append(
                    {
                        "field": f"rules[{i}].values[{j}]",
                        "message": f"{value!r} is not a defined {rule.type.value} release rule "
                        f"({len(choices)} defined); it is kept as written",
                    }
                )
    return warnings
