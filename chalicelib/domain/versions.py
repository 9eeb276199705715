"""Version numbers of apps and operating systems, ranges of them, and the cuts between them.

A version is dot-separated parts, e.g. ``10.1.32`` or ``5.0.1b``. The order (docs/targeting.md, "Versions"):

- Parts compare left to right; a missing part counts as ``0``, so ``1.0 == 1.0.0`` and ``10.1.32 > 10.1.4``.
- A part is ASCII letters and digits. It reads as a number (its leading digits, ``0`` if it has none)
  followed by a text suffix (the rest, lower-cased). Parts compare by number first, then by suffix, where
  no suffix is lowest and suffixes compare by character code: ``1 < 1a < 1b < 2``, ``01 == 1``,
  ``1A == 1a``, and a part without digits counts as ``0`` followed by its text (``beta == 0beta``, between
  ``0`` and ``1``).
- A leading ``v``/``V`` right before a digit is not part of the version: ``v10.2 == 10.2``.
- This is not SemVer: there are no pre-release tags, and ``-``/``+`` are not allowed in a version we
  are given (package versions, rule values). A version a device *reports* about itself is read with
  ``Version.parse_reported``: a leading ``v`` before a digit, a ``-pre-release`` and a ``+build`` tail
  are dropped first (``v10.2.0-beta+5`` reads as ``10.2.0``), so no device is refused for how its build
  is labelled (docs/targeting.md, "Input grammar").

``Version.key`` is a flat tuple ``(number, suffix, number, suffix, ...)`` with trailing ``(0, "")`` pairs
removed. Because no part is below ``(0, "")``, plain tuple comparison of keys *is* the padded comparison,
which is what makes matching fast: compiled targets compare keys, never re-parse.

Ranges are intervals in that order with optional, inclusive-or-exclusive ends. A **cut** is a point
between versions (just below or just above a version); every range is the set of versions between two
cuts, so the manifests can split the version line into segments at the cuts of all ranges, and a device
finds its segment with one bisection (``segment_index``).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chalicelib.domain.errors import ValidationError

MAX_VERSION_LENGTH = 64
MAX_NUMBER_DIGITS = 18  # every part fits a signed 64-bit integer on the devices that port this

_PART = re.compile(r"([0-9]*)(.*)", re.ASCII | re.DOTALL)
_LENIENT_PREFIX = re.compile(r"[0-9]+(?:\.[0-9]+)*", re.ASCII)
_VERSION_RULE = "must be dot-separated parts of ASCII letters and digits, e.g. 10.1.32"

VersionKey = tuple  # (int, str, int, str, ...): see the module docstring


@dataclass(frozen=True, order=True, slots=True)
class Version:
    """A parsed version. Equality, order and hash use ``key`` only; ``str()`` gives the text as written.

    Build one with ``Version.parse``; ``1.0`` and ``1.0.0`` are equal but keep their own text.
    """

    key: VersionKey
    text: str = field(compare=False)

    @classmethod
    def parse(cls, text: object, field_name: str = "version") -> Version:
        """Parse ``text`` (surrounding spaces ignored).

        Raises:
            ValidationError: naming ``field_name``, if it is not a string of dot-separated letter/digit
                parts, longer than 64 characters, or has a number part of more than 18 digits.
        """
        if not isinstance(text, str):
            raise ValidationError(field_name, "must be a version string, e.g. 10.1.32")
        try:
            return _parse(text)
        except _BadVersion as exc:
            raise ValidationError(field_name, str(exc)) from None

    @classmethod
    def parse_reported(cls, text: object, field_name: str = "clientVersion") -> Version:
        """A client version as a device reports it: ``parse`` after dropping a leading ``v``/``V``
        before a digit and everything from the first ``-`` or ``+`` (SemVer pre-release and build
        tails), so ``v10.2``, ``10.2.0-beta`` and ``10.2.0+build5`` read as ``10.2``/``10.2.0``. What is
        left must start with an ASCII digit.

        Raises:
            ValidationError: naming ``field_name``, if what is left is not a version.
        """
        if not isinstance(text, str):
            raise ValidationError(field_name, "must be a version string, e.g. 10.1.32")
        bare = undecorated(text)
        if bare[:1] not in _ASCII_DIGITS:  # "not-a-version!" must not read as version "not"
            raise ValidationError(field_name, "must start with a digit, e.g. 10.1.32")
        return cls.parse(bare, field_name)

    @classmethod
    def parse_lenient(cls, text: object) -> Version | None:
        """Best effort for versions a device reports about itself (OS versions): the exact parse if the
        text starts with a digit and parses, else its leading ``digits(.digits)*`` (``"12.0 beta 2"`` →
        ``12.0``), else ``None`` (``"R"``, ``""``: unknown)."""
        if not isinstance(text, str):
            return None
        text = _drop_v(text.strip())
        if not text[:1].isdigit():
            return None
        try:
            return _parse(text)
        except _BadVersion:
            match = _LENIENT_PREFIX.match(text)
            if match is None:
                return None
            try:
                return _parse(match.group())
            except _BadVersion:
                return None

    @property
    def canonical(self) -> str:
        """The shortest text with this key: ``1.0.0`` → ``1``, ``01.2A`` → ``1.2a``, ``0.0`` → ``0``.
        Equal versions have the same canonical text, and it parses back to an equal version."""
        key = self.key
        if not key:
            return "0"
        return ".".join(f"{key[i]}{key[i + 1]}" for i in range(0, len(key), 2))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"


@dataclass(frozen=True, order=True, slots=True)
class Cut:
    """A point between versions: just below ``version`` (``Cut.below(v)``) or just above it (``Cut.over(v)``).

    Cuts sort along the version line: ``Cut.below(v) < v < Cut.over(v)``.
    ``position`` is what sorts: ``(version.key, 0)`` below, ``(version.key, 2)`` above, so a version sits
    at ``(key, 1)`` between its two cuts.
    """

    position: tuple[VersionKey, int]
    version: Version = field(compare=False)
    above: bool = field(compare=False)

    @classmethod
    def below(cls, version: Version) -> Cut:
        return cls((version.key, 0), version, False)

    @classmethod
    def over(cls, version: Version) -> Cut:
        return cls((version.key, 2), version, True)


class _BadVersion(ValueError):
    pass


def _drop_v(text: str) -> str:
    return text[1:] if text[:1] in ("v", "V") and text[1:2].isascii() and text[1:2].isdigit() else text


_TAIL = re.compile(r"[-+]")


_ASCII_DIGITS = tuple("0123456789")


def undecorated(text: str) -> str:
    """``text`` stripped, without a leading ``v`` before a digit and without a ``-``/``+`` tail."""
    text = _drop_v(text.strip())
    tail = _TAIL.search(text)
    return text if tail is None else text[: tail.start()]


@functools.lru_cache(maxsize=4096)  # devices report few distinct versions; Version is immutable
def _parse(text: str) -> Version:
    text = text.strip()
    if len(text) > MAX_VERSION_LENGTH:
        raise _BadVersion(f"must be at most {MAX_VERSION_LENGTH} characters")
    key: list[int | str] = []
    for part in _drop_v(text).split("."):
        # str.isalnum() alone would admit non-ASCII letters and digits
        if not (part.isascii() and part.isalnum()):
            raise _BadVersion(_VERSION_RULE)
        if part.isdigit():
            digits, suffix = part, ""
        else:
            digits, suffix = _PART.fullmatch(part).groups()  # type: ignore[union-attr]
            suffix = suffix.lower()
        if len(digits) > MAX_NUMBER_DIGITS and len(digits.lstrip("0")) > MAX_NUMBER_DIGITS:
            raise _BadVersion(f"number parts must have at most {MAX_NUMBER_DIGITS} digits")
        key += (int(digits or "0"), suffix)
    while key and key[-2] == 0 and key[-1] == "":
        del key[-2:]
    return Version(tuple(key), text)


def version_position(version: Version) -> tuple[VersionKey, int]:
    """Where ``version`` sits among cuts (compare with ``Cut.position``)."""
    return (version.key, 1)


@dataclass(frozen=True, slots=True)
class VersionRange:
    """Versions from ``min`` to ``max``; ``None`` means unbounded on that side.

    Both ends are **inclusive** unless ``min_inclusive``/``max_inclusive`` say otherwise (mPaaS client
    ranges are inclusive; "every version lower than the package's" is ``VersionRange(None, pkg,
    max_inclusive=False)``). A range must not be empty.

    Raises:
        ValidationError: ``max`` below ``min``, or an empty range (``min == max`` with an exclusive end).
    """

    min: Version | None = None
    max: Version | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    def __post_init__(self) -> None:
        for name in ("min", "max"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), Version):
                raise ValidationError(name, "must be a Version or None")
        for name in ("min_inclusive", "max_inclusive"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(_CAMEL[name], "must be true or false")
        if self.min is not None and self.max is not None:
            if self.max < self.min:
                raise ValidationError("max", f"must not be lower than min ({self.min})")
            if self.max == self.min and not (self.min_inclusive and self.max_inclusive):
                raise ValidationError("max", "equals min with an exclusive end: the range is empty")
        # A bound that does not limit anything is stored canonically as inclusive.
        if self.min is None and not self.min_inclusive:
            object.__setattr__(self, "min_inclusive", True)
        if self.max is None and not self.max_inclusive:
            object.__setattr__(self, "max_inclusive", True)

    @classmethod
    def parse(cls, text: object, field_name: str = "range") -> VersionRange:
        """Parse the mPaaS ``"min-max"`` form (inclusive; an empty side is unbounded): ``"8.0-12.0"``,
        ``"9.2.1-9.2.1"``, ``"10.0-"``.

        Raises:
            ValidationError: naming ``field_name``.
        """
        if not isinstance(text, str) or text.count("-") != 1:
            raise ValidationError(field_name, 'must be "min-max", e.g. "8.0-12.0" (either side may be empty)')
        low, high = (side.strip() for side in text.split("-"))
        try:
            return cls(
                Version.parse(low, field_name) if low else None,
                Version.parse(high, field_name) if high else None,
            )
        except ValidationError as exc:
            raise ValidationError(field_name, exc.rule) from None

    @property
    def lower_cut(self) -> Cut | None:
        """The cut this range starts at (``None``: unbounded below)."""
        if self.min is None:
            return None
        return Cut.below(self.min) if self.min_inclusive else Cut.over(self.min)

    @property
    def upper_cut(self) -> Cut | None:
        """The cut this range ends at (``None``: unbounded above)."""
        if self.max is None:
            return None
        return Cut.over(self.max) if self.max_inclusive else Cut.below(self.max)

    def contains(self, version: Version) -> bool:
        key = version.key
        if self.min is not None:
            if key < self.min.key or (key == self.min.key and not self.min_inclusive):
                return False
        if self.max is not None:
            if key > self.max.key or (key == self.max.key and not self.max_inclusive):
                return False
        return True

    __contains__ = contains

    def to_json(self) -> dict[str, object]:
        """``{"min", "max", "minInclusive", "maxInclusive"}``; ``null`` for an unbounded side."""
        return {
            "min": None if self.min is None else str(self.min),
            "max": None if self.max is None else str(self.max),
            "minInclusive": self.min_inclusive,
            "maxInclusive": self.max_inclusive,
        }

    @classmethod
    def from_json(cls, data: object, path: str = "range") -> VersionRange:
        """Read the ``to_json`` form (``minInclusive``/``maxInclusive`` default to true), or the
        ``"min-max"`` string form.

        Raises:
            ValidationError: with ``path`` prefixed to the field, e.g. ``clientVersions[0].max``.
        """
        if isinstance(data, str):
            return cls.parse(data, path)
        if not isinstance(data, dict):
            raise ValidationError(path, 'must be an object {"min", "max"} or a "min-max" string')
        for name in data:
            if name not in _RANGE_FIELDS:
                raise ValidationError(f"{path}.{name}", "unknown field")
        values: dict[str, object] = {}
        for name in ("min", "max"):
            raw = data.get(name)
            values[name] = None if raw is None or raw == "" else Version.parse(raw, f"{path}.{name}")
        for name in ("minInclusive", "maxInclusive"):
            raw = data.get(name, True)
            if not isinstance(raw, bool):
                raise ValidationError(f"{path}.{name}", "must be true or false")
            values[name] = raw
        try:
            return cls(values["min"], values["max"], values["minInclusive"], values["maxInclusive"])  # type: ignore[arg-type]
        except ValidationError as exc:
            raise ValidationError(f"{path}.{exc.field}", exc.rule) from None

    def __str__(self) -> str:
        low = "(-inf" if self.min is None else ("[" if self.min_inclusive else "(") + str(self.min)
        high = "+inf)" if self.max is None else str(self.max) + ("]" if self.max_inclusive else ")")
        return f"{low}, {high}"


_RANGE_FIELDS = frozenset({"min", "max", "minInclusive", "maxInclusive"})
_CAMEL = {"min_inclusive": "minInclusive", "max_inclusive": "maxInclusive"}

_MINUS_INFINITY: tuple = ()  # sorts before every cut position


def _lower_position(r: VersionRange) -> tuple:
    cut = r.lower_cut
    return _MINUS_INFINITY if cut is None else cut.position


def merge_ranges(ranges: Iterable[VersionRange]) -> tuple[VersionRange, ...]:
    """The union of ``ranges`` as sorted, disjoint, non-touching ranges (overlapping or adjacent ones
    joined: ``[1, 2]`` and ``(2, 3]`` become ``[1, 3]``; ``[1, 2)`` and ``(2, 3]`` stay apart)."""
    merged: list[VersionRange] = []
    for r in sorted(ranges, key=_lower_position):
        if merged:
            last = merged[-1]
            last_upper = last.upper_cut
            if last_upper is None:
                continue  # the last range already runs to +infinity
            lower = r.lower_cut
            if lower is None or lower <= last_upper:
                upper = r.upper_cut
                if upper is None or upper > last_upper:
                    merged[-1] = VersionRange(last.min, r.max, last.min_inclusive, r.max_inclusive)
                continue
        merged.append(r)
    return tuple(merged)


class RangeSet:
    """A compiled union of ranges: ``contains_key(version_key)`` by bisection over merged intervals.

    An empty ``RangeSet`` contains nothing (callers decide whether "no ranges" means "all versions").
    """

    __slots__ = ("ranges", "_lows", "_intervals")

    def __init__(self, ranges: Iterable[VersionRange]) -> None:
        self.ranges = merge_ranges(ranges)
        # (low key or None, low inclusive, high key or None, high inclusive) per merged range
        self._intervals = tuple(
            (
                None if r.min is None else r.min.key,
                r.min_inclusive,
                None if r.max is None else r.max.key,
                r.max_inclusive,
            )
            for r in self.ranges
        )
        self._lows = [_lower_position(r) for r in self.ranges]

    def contains_key(self, key: VersionKey) -> bool:
        intervals = self._intervals
        if len(intervals) == 1:
            index = 0
        else:
            index = bisect.bisect_right(self._lows, (key, 1)) - 1
            if index < 0:
                return False
        low, low_inclusive, high, high_inclusive = intervals[index]
        if low is not None and (key < low or (not low_inclusive and key == low)):
            return False
        if high is not None and (key > high or (not high_inclusive and key == high)):
            return False
        return True

    def __contains__(self, version: Version) -> bool:
        return self.contains_key(version.key)

    def __len__(self) -> int:
        return len(self.ranges)


def in_any_range(version: Version, ranges: Sequence[VersionRange]) -> bool:
    """Whether ``version`` lies in any of ``ranges``. For many lookups build a ``RangeSet`` once."""
    return any(r.contains(version) for r in ranges)


def segment_cuts(ranges: Iterable[VersionRange]) -> tuple[Cut, ...]:
    """The sorted, distinct cuts of all ``ranges``. They split the version line into
    ``len(cuts) + 1`` segments within which every range either contains every version or none."""
    cuts = {c.position: c for r in ranges for c in (r.lower_cut, r.upper_cut) if c is not None}
    return tuple(cuts[p] for p in sorted(cuts))


def segment_index(version: Version, cuts: Sequence[Cut]) -> int:
    """Which segment of ``cuts`` (from ``segment_cuts``) holds ``version``: the number of cuts below it."""
    return bisect.bisect_left(cuts, version_position(version), key=_cut_position)


def _cut_position(cut: Cut) -> tuple[VersionKey, int]:
    return cut.position
