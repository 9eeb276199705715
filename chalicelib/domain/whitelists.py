"""Whitelists: who a gray release may reach.

- **normal** lists hold exact user IDs (hundreds of thousands), added as comma/newline text or a file;
- **regex** lists hold up to 20 patterns; a user ID is a hit if any pattern matches all of it.

Contents are validated here; storage (S3 objects + DynamoDB metadata) and pattern compilation with
a match timeout live outside the domain. For static delivery a list is published as salted SHA-256
hashes sharded by hash prefix (``published_shards``): a device fetches one small shard and never
sees a raw ID.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.text import checked_text

MAX_ID_LENGTH = 128
MAX_PATTERNS = 20
MAX_PATTERN_LENGTH = 256
_SEPARATORS = re.compile(r"[,\n]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class WhitelistKind(enum.StrEnum):
    NORMAL = "normal"
    REGEX = "regex"

    @classmethod
    def parse(cls, value: object) -> WhitelistKind:
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        raise ValidationError("type", "must be one of: normal, regex")


@dataclass(frozen=True)
class Rejected:
    line: int
    value: str
    reason: str

    def view(self) -> dict:
        return {"line": self.line, "value": self.value[:160], "reason": self.reason}


@dataclass
class ParsedIds:
    """User IDs from text, in first-seen order, without blanks or duplicates, plus what was refused."""

    ids: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def parse_ids(text: str) -> ParsedIds:
    """Split on commas and newlines, trim each value, skip blanks and repeats.

    Refused (reported with the 1-based line number, never fatal): IDs over 128 characters and IDs
    containing control characters.
    """
    parsed = ParsedIds()
    seen: set[str] = set()
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        for raw in line.split(","):
            value = raw.strip()
            if not value:
                continue
            if len(value) > MAX_ID_LENGTH:
                parsed.rejected.append(Rejected(number, value, f"longer than {MAX_ID_LENGTH} characters"))
            elif _CONTROL.search(value):
                parsed.rejected.append(Rejected(number, value, "contains control characters"))
            elif value not in seen:
                seen.add(value)
                parsed.ids.append(value)
    return parsed


def decode_text(data: bytes, field_name: str = "file") -> str:
    """An uploaded ID file must be UTF-8 text (a BOM is tolerated); anything else is refused whole."""
    if b"\x00" in data:
        raise ValidationError(field_name, "is not a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(field_name, f"is not UTF-8 text (invalid byte at offset {exc.start})") from None


def validate_name(value: object) -> str:
    return checked_text("name", value, max_len=64)


def check_pattern_shapes(patterns: object) -> list[str]:
    """Count and length rules for a regex list; compiling and the backtracking check happen elsewhere."""
    if not isinstance(patterns, list) or not patterns:
        raise ValidationError("patterns", "must be a non-empty list")
    if len(patterns) > MAX_PATTERNS:
        raise ValidationError("patterns", f"at most {MAX_PATTERNS} patterns")
    cleaned = []
    for n, pattern in enumerate(patterns):
        if not isinstance(pattern, str) or not pattern:
            raise ValidationError(f"patterns[{n}]", "must be a non-empty string")
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise ValidationError(f"patterns[{n}]", f"must be at most {MAX_PATTERN_LENGTH} characters")
        cleaned.append(pattern)
    return cleaned


# --- the published form ------------------------------------------------------------------------

SHARD_HEX_DIGITS = 2  # 256 shards: a 500,000-ID list gives ~2,000 hashes (~25 KB) per shard


def member_hash(salt: str, user_id: str) -> str:
    """SHA-256 over ``salt + ":" + user_id`` (UTF-8), lower-case hex. Devices compute the same."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


def shard_of(hashed: str) -> str:
    return hashed[:SHARD_HEX_DIGITS]


def published_shards(salt: str, ids: list[str]) -> dict[str, list[str]]:
    """Shard name → sorted hashes (prefix removed, it is the shard name). Every shard exists, even
    empty ones, so a device can tell "not a member" from "not published"."""
    shards: dict[str, list[str]] = {f"{n:0{SHARD_HEX_DIGITS}x}": [] for n in range(16**SHARD_HEX_DIGITS)}
    for user_id in ids:
        hashed = member_hash(salt, user_id)
        shards[shard_of(hashed)].append(hashed[SHARD_HEX_DIGITS:])
    for values in shards.values():
        values.sort()
    return shards


class ShardedMembership:
    """Whitelist membership through the published form: salted hashes split into 256 shards.

    This is what a device holds (one shard per list it needs) and what the server evaluates with, so
    both answer from the same data. A lookup hashes the user once and probes one shard (~1/256 of the
    list). In memory each hash is kept as a 64-bit fingerprint (hash bytes 1-8, right after the shard
    byte): compact, so a large list stays cache-friendly; a false hit needs a 64-bit collision within
    one shard (~2,000 entries for 500,000 IDs: odds ~1e-16).
    """

    def __init__(self) -> None:
        self._lists: dict[str, tuple[bytes, dict[int, frozenset[int]]]] = {}

    def add_list(self, whitelist_id: str, salt: str, shards: dict[str, list[str]]) -> None:
        for shard, hashes in shards.items():
            self.add_shard(whitelist_id, salt, shard, hashes)

    def add_shard(self, whitelist_id: str, salt: str, shard: str, hashes: list[str]) -> None:
        _salt, shards = self._lists.setdefault(whitelist_id, (f"{salt}:".encode(), {}))
        shards[int(shard, 16)] = frozenset(int(h[:16], 16) for h in hashes)

    def contains(self, whitelist_id: str, user_id: str) -> bool:
        entry = self._lists.get(whitelist_id)
        if entry is None:
            return False
        salt, shards = entry
        digest = hashlib.sha256(salt + user_id.encode()).digest()
        found = shards.get(digest[0])
        return found is not None and int.from_bytes(digest[1:9], "big") in found
