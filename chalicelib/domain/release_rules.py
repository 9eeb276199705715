"""Release-rule resources: the named values (a city, a device model, a network, an OS version) that
advanced rules of gray releases pick from. Matching uses the value only; the name is for display."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.targeting import NETWORK_VALUES, Platform, RuleType, normalize_network
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
