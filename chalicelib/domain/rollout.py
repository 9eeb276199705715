"""Percentage rollouts: a stable, portable bucket per (salt, user) and a threshold in basis points.

The bucket function runs on the server and, ported, on every device (Kotlin, Swift, JS), so it is
deliberately plain (docs/targeting.md, "Percentage rollout", has test vectors)::

    bucket = big-endian unsigned 64-bit integer of sha256(utf8(salt + ":" + identity))[0:8]  mod 10000

A user is in a rollout of ``basis_points`` (1/100 of a percent, 0..10000) iff ``bucket < basis_points``.
So 0 is nobody, 10000 is everybody, and raising the percentage only ever adds users: whoever was in at
10% is still in at 20% (same salt). Different salts (one per task or config key) give independent
cohorts. The modulo bias of 2**64 mod 10000 is below 1e-15 and is ignored.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from chalicelib.domain.errors import ValidationError

BUCKETS = 10_000  # basis points: percent with two decimals, as an integer
MAX_SALT_LENGTH = 128
_PERCENT_RULE = "must be a number from 0 to 100 with at most two decimals"


def bucket(salt: str, identity: str) -> int:
    """The bucket (0..9999) of ``identity`` under ``salt``; see the module docstring."""
    digest = hashlib.sha256(f"{salt}:{identity}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def parse_percent(value: object, field_name: str = "percent") -> int:
    """Percent (``12``, ``12.5``, ``"12.34"``) → basis points (``1200``, ``1250``, ``1234``), without
    ever rounding: more than two decimals is an error, not a silent change of cohort.

    Raises:
        ValidationError: naming ``field_name``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError(field_name, _PERCENT_RULE)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(field_name, _PERCENT_RULE)
    try:
        # repr() of a float is the shortest text that reads back as it: 12.5 → "12.5", 0.1 → "0.1"
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValidationError(field_name, _PERCENT_RULE) from None
    if not amount.is_finite():
        raise ValidationError(field_name, _PERCENT_RULE)
    basis_points = amount * 100
    if basis_points != basis_points.to_integral_value() or not 0 <= basis_points <= BUCKETS:
        raise ValidationError(field_name, _PERCENT_RULE)
    return int(basis_points)


def format_percent(basis_points: int) -> str:
    """Basis points → the shortest percent text: ``1250`` → ``"12.5"``, ``1000`` → ``"10"``."""
    whole, cents = divmod(basis_points, 100)
    return f"{whole}" if cents == 0 else f"{whole}.{cents:02d}".rstrip("0")


@dataclass(frozen=True, slots=True)
class Rollout:
    """Let in ``basis_points``/10000 of users, chosen by ``bucket(salt, identity)``.

    Raises:
        ValidationError: ``percent`` outside 0..100 (``basis_points`` outside 0..10000), or a ``salt``
            that is empty, longer than 128 characters or has control characters.
    """

    basis_points: int
    salt: str

    def __post_init__(self) -> None:
        if (
            isinstance(self.basis_points, bool)
            or not isinstance(self.basis_points, int)
            or not 0 <= self.basis_points <= BUCKETS
        ):
            raise ValidationError("percent", _PERCENT_RULE)
        if not isinstance(self.salt, str) or not self.salt or len(self.salt) > MAX_SALT_LENGTH:
            raise ValidationError("salt", f"must be a string of 1-{MAX_SALT_LENGTH} characters")
        if any(ord(c) < 32 or ord(c) == 127 for c in self.salt):
            raise ValidationError("salt", "must not contain control characters")

    @classmethod
    def of_percent(cls, percent: object, salt: str) -> Rollout:
        return cls(parse_percent(percent), salt)

    @property
    def percent(self) -> str:
        """The percentage as exact decimal text, e.g. ``"12.5"``."""
        return format_percent(self.basis_points)

    def includes(self, identity: str | None) -> bool:
        """Whether ``identity`` is in. Without an identity only a 100% rollout lets the device in."""
        if self.basis_points >= BUCKETS:
            return True
        if not identity or self.basis_points <= 0:
            return False
        return bucket(self.salt, identity) < self.basis_points
