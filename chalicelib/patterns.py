"""Regex whitelist patterns: compiled with the ``regex`` engine, which can time a match out.

Saving a pattern runs it against adversarial inputs built from its own characters; a pattern that
needs more than ``TRIAL_TIMEOUT`` on any of them is refused as prone to catastrophic backtracking.
At request time every match has a ``MATCH_TIMEOUT``; a timed-out match counts as no match (and is
logged), so a pattern can never hang a request.
"""

from __future__ import annotations

import logging
import string
from functools import lru_cache

import regex

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.whitelists import MAX_ID_LENGTH, check_pattern_shapes

TRIAL_TIMEOUT = 0.05
MATCH_TIMEOUT = 0.01


def validate_patterns(patterns: object) -> list[str]:
    """Raises ValidationError naming ``patterns[i]`` for bad syntax or catastrophic backtracking."""
    cleaned = check_pattern_shapes(patterns)
    for n, pattern in enumerate(cleaned):
        try:
            compiled = regex.compile(pattern)
        except regex.error as exc:
            raise ValidationError(f"patterns[{n}]", f"is not a valid regular expression ({exc})") from None
        for probe in _adversarial_inputs(pattern):
            try:
                compiled.fullmatch(probe, timeout=TRIAL_TIMEOUT)
            except TimeoutError:
                raise ValidationError(
                    f"patterns[{n}]",
                    "is prone to catastrophic backtracking; simplify nested or overlapping repeats",
                ) from None
    return cleaned


def _adversarial_inputs(pattern: str) -> list[str]:
    """Long runs of the characters the pattern mentions, ending in a character that breaks the match."""
    alphabet = sorted({c for c in pattern if c.isalnum()} | {"a", "0", " ", "-", "_"})
    length = MAX_ID_LENGTH - 1
    probes = []
    for c in alphabet:
        for tail in ("!", "\x7f", c.upper() if c.islower() else "z"):
            probes.append(c * length + tail)
    pairs = "".join(alphabet[:8])
    if pairs:
        probes.append((pairs * (length // len(pairs) + 1))[:length] + "!")
    probes.append((string.ascii_lowercase * 5)[:length] + "!")
    return probes


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> regex.Pattern:
    return regex.compile(pattern)


def any_matches(patterns: tuple[str, ...], user_id: str) -> bool:
    """True if any pattern matches the whole user ID within the time limit."""
    for pattern in patterns:
        try:
            if _compiled(pattern).fullmatch(user_id, timeout=MATCH_TIMEOUT):
                return True
        except TimeoutError:
            from chalicelib.logs import log

            log(logging.WARNING, "regex whitelist match timed out", pattern=pattern)
    return False
