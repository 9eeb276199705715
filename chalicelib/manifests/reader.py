"""Reading published manifests: the same code on the device (files from the CDN) and in the dynamic
check API (files from the bucket), so both evaluate exactly the same candidates and whitelist shards.

``ManifestReader`` is given a ``fetch(path) -> bytes | None`` and the pinned public keys; it verifies
every envelope (signature, then the segment's SHA-256 as listed by the signed index, then the shard's
whitelist version) before using it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.manifests import Envelope, find_segment, product_section, sha256_hex
from chalicelib.domain.targeting import Device
from chalicelib.domain.versions import Version
from chalicelib.domain.whitelists import ShardedMembership, member_hash, shard_of

Fetch = Callable[[str], bytes | None]


class ManifestError(Exception):
    """A file is missing, unsigned, signed by an unknown key, tampered with, or stale."""


def open_envelope(raw: bytes | None, public_keys: Mapping[str, bytes], what: str) -> dict[str, Any]:
    from chalicelib.security.signing import verify

    if raw is None:
        raise ManifestError(f"{what} is missing")
    try:
        envelope = Envelope.parse(raw)
    except ValueError as exc:
        raise ManifestError(f"{what}: {exc}") from None
    if envelope.key_id not in public_keys:
        raise ManifestError(f"{what}: signed by key {envelope.key_id}, which is not one of the pinned keys")
    if not verify(envelope, dict(public_keys)):
        raise ManifestError(f"{what}: signature does not verify with the pinned keys")
    return envelope.document()


def segment_path_for(section: Mapping[str, Any], device: Device) -> Mapping[str, Any]:
    """The entry (path, sha256) of the segment of ``section`` (a product's part of an index) that
    holds ``device``'s client version."""
    version = device.client_version if isinstance(device.client_version, Version) else None
    return find_segment(section, version)


def read_segment(
    raw: bytes | None, entry: Mapping[str, Any], public_keys: Mapping[str, bytes]
) -> list[Candidate]:
    document = open_envelope(raw, public_keys, f"segment {entry['path']}")
    if raw is not None and sha256_hex(Envelope.parse(raw).payload) != entry["sha256"]:
        raise ManifestError(f"segment {entry['path']} is not the one the index lists")
    return [Candidate.from_json(c) for c in document["candidates"]]


@dataclass
class PublishedView:
    """One publication of a (tenant, platform) as a device reads it: the verified ``index`` (the
    combined index, or a deprecated per-product one), each product's segments (read through ``fetch``
    on first use, then kept: content-addressed, never changed) and whitelist membership over its
    shards. The one view the device client, the dynamic check API and the console preview decide
    from, so the three cannot read the manifests differently."""

    index: Mapping[str, Any]
    keys: Mapping[str, bytes]
    fetch: Fetch
    segments: dict[str, list[Candidate]] = field(default_factory=dict)

    @property
    def sequence(self) -> int:
        return int(self.index["sequence"])

    def section(self, product: str) -> Mapping[str, Any] | None:
        """The product's part of the index; None when the product has nothing published."""
        return product_section(self.index, product)

    def segment_for(self, product: str, device: Device) -> Mapping[str, Any] | None:
        """The index entry of the product's segment that holds ``device``'s client version."""
        section = self.section(product)
        return None if section is None else segment_path_for(section, device)

    def candidates_for(self, product: str, device: Device) -> list[Candidate]:
        """The candidates of ``device``'s segment of ``product``, in priority order (verified against
        the index); none when the product has nothing published."""
        entry = self.segment_for(product, device)
        if entry is None:
            return []
        found = self.segments.get(entry["path"])
        if found is None:
            found = self.segments[entry["path"]] = read_segment(self.fetch(entry["path"]), entry, self.keys)
        return found

    def membership(self) -> PublishedMembership:
        return PublishedMembership(self.index["whitelists"], self.fetch, self.keys)


class PublishedMembership:
    """``WhitelistMembership`` over published whitelists, fetching one shard per (list, user) on demand."""

    def __init__(self, whitelists: Mapping[str, Any], fetch: Fetch, public_keys: Mapping[str, bytes]) -> None:
        self._whitelists = whitelists
        self._fetch = fetch
        self._keys = public_keys
        self._sharded = ShardedMembership()
        self._loaded: set[tuple[str, str]] = set()

    def contains(self, whitelist_id: str, user_id: str) -> bool:
        entry = self._whitelists.get(whitelist_id)
        if entry is None:
            return False
        if entry["type"] == "regex":
            from chalicelib.patterns import any_matches

            return any_matches(tuple(entry["patterns"]), user_id)
        shard = shard_of(member_hash(entry["salt"], user_id))
        if (whitelist_id, shard) not in self._loaded:
            path = f"{entry['path']}{shard}.json"
            document = open_envelope(self._fetch(path), self._keys, f"whitelist shard {path}")
            if document.get("whitelistId") != whitelist_id or document.get("version") != entry["version"]:
                raise ManifestError(f"whitelist shard {path} belongs to another list or version")
            self._sharded.add_shard(whitelist_id, entry["salt"], shard, document["hashes"])
            self._loaded.add((whitelist_id, shard))
        return self._sharded.contains(whitelist_id, user_id)
