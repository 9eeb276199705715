"""The one rule for short human-entered text (names, descriptions, rule values)."""

from __future__ import annotations

from chalicelib.domain.errors import MissingParameter, ValidationError


def checked_text(field: str, value: object, *, max_len: int = 128) -> str:
    """Trimmed, non-empty, at most ``max_len`` characters, no control characters.

    Raises:
        ValidationError: naming ``field`` and the rule broken.
    """
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty string")
    value = value.strip()
    if len(value) > max_len:
        raise ValidationError(field, f"must be at most {max_len} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValidationError(field, "must not contain control characters")
    return value


def free_text(field: str, value: object, *, limit: int, required: bool = False) -> str:
    """Free text (descriptions, memos, prompts): trimmed, at most ``limit`` characters, no control
    characters other than newlines and tabs; absent or blank is "" (or MissingParameter if ``required``).

    Raises:
        ValidationError: naming ``field`` and the rule broken.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise MissingParameter(field)
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    text = value.strip()
    if len(text) > limit:
        raise ValidationError(field, f"must be at most {limit} characters")
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in text):
        raise ValidationError(field, "must not contain control characters")
    return text
