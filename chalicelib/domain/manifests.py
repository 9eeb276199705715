"""Manifests: what devices read from the CDN instead of calling the API.

For one (tenant, product, platform) the live candidates are split into **segments**: intervals of the
client-version line within which every device has the same candidate list (the interval boundaries
are the cuts of every candidate's client-version ranges). Each segment is one immutable file named by
the SHA-256 of its content. One **index** per (tenant, platform) holds, for every product, a
**section** that maps intervals to segment files (with the section's digest, so a device sees which
product changed), plus the sequence number, the publication time, the poll cadence and the whitelists
the segments refer to. Only the index changes from one publication to the next, so unchanged segments
keep their URL and their cache. (The per-product index of schema 1 is the same section with the
sequence and whitelists inline; it is still published for one release of the client protocol.)

Every file is an **envelope**: ``{"v": 1, "keyId", "payload": base64url(canonical JSON), "sig":
base64url(Ed25519(payload bytes))}``. The device verifies the signature over the exact payload bytes
and only then parses them, so it never has to re-create canonical JSON. Signing itself happens in
``chalicelib.security.signing``; this module only builds and reads the documents.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.versions import Cut, Version, VersionRange, segment_cuts, segment_index

SCHEMA = 1  # segments, shards, grants and the deprecated per-product index
INDEX_SCHEMA = 2  # the combined index of one (tenant, platform)
ENVELOPE_VERSION = 1

# How long a device may wait before its next check round (the index's ``poll``), per tenant.
POLL_DEFAULT_SECONDS = 600
POLL_FLOOR_SECONDS = 60  # below this the CDN request fee grows with no fresher answers (invalidation)
POLL_CEILING_SECONDS = 86_400
STALE_IF_ERROR_SECONDS = 7 * 86_400  # an edge keeps serving the last index this long if the origin fails
# CDN headers of every file whose path names its content (segments, shards, H5 packages, patch files): the
# bytes under such a path never change, so edges and devices keep them for a year without revalidating
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same document always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


# --- segments ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Candidates (in priority order) for every client version between two cuts."""

    candidates: tuple[Candidate, ...]

    def document(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "candidates": [c.to_json() for c in self.candidates]}


def _covers(ranges: Sequence[VersionRange], lower: Cut | None, upper: Cut | None) -> bool:
    """Whether some range holds the whole open interval (lower, upper). Cuts come from the ranges, so a
    range holds all of an interval or none of it."""
    if not ranges:
        return True
    for r in ranges:
        lo, hi = r.lower_cut, r.upper_cut
        if (lo is None or (lower is not None and lo.position <= lower.position)) and (
            hi is None or (upper is not None and hi.position >= upper.position)
        ):
            return True
    return False


def split_segments(candidates: Sequence[Candidate]) -> tuple[tuple[Cut, ...], list[Segment]]:
    """The cuts and the ``len(cuts) + 1`` segments between them."""
    cuts = segment_cuts(r for c in candidates for r in c.target.client_versions)
    bounds = [None, *cuts, None]
    segments = [
        Segment(tuple(c for c in candidates if _covers(c.target.client_versions, bounds[i], bounds[i + 1])))
        for i in range(len(cuts) + 1)
    ]
    return cuts, segments


def unversioned_segment(candidates: Sequence[Candidate]) -> Segment:
    """For a device whose client version is unknown: only candidates without a version restriction."""
    return Segment(tuple(c for c in candidates if not c.target.client_versions))


def cut_to_json(cut: Cut) -> dict[str, Any]:
    return {"version": str(cut.version.canonical), "above": cut.above}


def cut_from_json(data: Mapping[str, Any]) -> Cut:
    version = Version.parse(data["version"])
    return Cut.over(version) if data["above"] else Cut.below(version)


def find_segment(index: Mapping[str, Any], client_version: Version | None) -> Mapping[str, Any]:
    """The index entry (``{"path", "sha256"}``) of the segment a device with ``client_version`` reads."""
    if client_version is None:
        return index["unversioned"]
    cuts = [cut_from_json(c) for c in index["cuts"]]
    return index["segments"][segment_index(client_version, cuts)]


def product_section(index: Mapping[str, Any], product: str) -> Mapping[str, Any] | None:
    """The part of an index a product's decision reads (``cuts``, ``segments``, ``unversioned``): a
    section of the combined index, or the whole deprecated per-product index. None: not published."""
    if index.get("schema") == INDEX_SCHEMA:
        section: Mapping[str, Any] | None = index.get("products", {}).get(product)
        return section
    return index if index.get("product") == product else None


def product_section_document(
    candidates: Sequence[Candidate], entry: Callable[[Segment], Mapping[str, str]]
) -> dict[str, Any]:
    """A product's section of the combined index, with its digest. ``entry`` names the file of a
    segment (``{"path", "sha256"}``; the publisher writes it, the conformance kit only computes it)."""
    cuts, segments = split_segments(candidates)
    section: dict[str, Any] = {
        "cuts": [cut_to_json(c) for c in cuts],
        "segments": [dict(entry(s)) for s in segments],
        "unversioned": dict(entry(unversioned_segment(candidates))),
        "whitelists": sorted({w for c in candidates for w in c.target.whitelist_ids}),
        "notAfter": earliest_not_after(candidates),
    }
    return {**section, "digest": section_digest(section)}


def index_document(
    app_id: str,
    workspace_id: str,
    platform: str,
    sections: Mapping[str, Mapping[str, Any]],
    whitelists: Mapping[str, Any],
    poll_seconds: int,
) -> dict[str, Any]:
    """The combined index of one (tenant, platform), without its ``sequence`` and ``publishedAt``:
    every product's section, the whitelists they name, the poll cadence and the earliest end of any
    time-bounded entry."""
    ends = [s["notAfter"] for s in sections.values() if s.get("notAfter") is not None]
    return {
        "schema": INDEX_SCHEMA,
        "appId": app_id,
        "workspaceId": workspace_id,
        "platform": platform,
        "poll": poll_document(poll_seconds),
        "products": {product: dict(section) for product, section in sections.items()},
        "whitelists": dict(whitelists),
        "notAfter": min(ends) if ends else None,
    }


def section_digest(section: Mapping[str, Any]) -> str:
    """What a device compares to tell whether a product changed (the section without its digest)."""
    return sha256_hex(canonical_json({k: v for k, v in section.items() if k != "digest"}))


def check_poll_seconds(value: Any) -> int:
    """A tenant's poll interval. Raises ValidationError naming ``pollSeconds`` and the rule."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("pollSeconds", "must be a whole number of seconds")
    if not POLL_FLOOR_SECONDS <= value <= POLL_CEILING_SECONDS:
        raise ValidationError(
            "pollSeconds", f"must be between {POLL_FLOOR_SECONDS} and {POLL_CEILING_SECONDS} seconds"
        )
    return value


def poll_document(seconds: int) -> dict[str, int]:
    """The index's ``poll``: wait ``seconds`` before the next check round; a device whose check fails
    keeps using its last good index (and the edge its cached copy for ``staleIfError`` seconds)."""
    return {"seconds": seconds, "staleIfError": STALE_IF_ERROR_SECONDS}


def index_cache_control(seconds: int) -> str:
    """CDN headers of the index follow its poll cadence. An edge may answer from cache for the poll
    interval (a publication invalidates the path, so a change is not held back), refresh in the
    background for as long again, and serve its last copy during an origin outage."""
    return (
        f"public, max-age={seconds}, stale-while-revalidate={seconds}, "
        f"stale-if-error={STALE_IF_ERROR_SECONDS}"
    )


def earliest_not_after(candidates: Sequence[Candidate]) -> int | None:
    """When the published answer next changes by itself (a time window ends): devices re-check then and
    the reconciler re-publishes then."""
    ends = [c.not_after for c in candidates if c.not_after is not None]
    return min(ends) if ends else None


# --- envelopes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    key_id: str
    payload: bytes
    signature: bytes

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": ENVELOPE_VERSION,
                "keyId": self.key_id,
                "payload": b64url(self.payload),
                "sig": b64url(self.signature),
            }
        )

    @classmethod
    def parse(cls, raw: bytes) -> Envelope:
        """Raises ValueError for anything that is not a version-1 envelope."""
        try:
            data = json.loads(raw)
            if data.get("v") != ENVELOPE_VERSION:
                raise ValueError(f"unsupported envelope version {data.get('v')!r}")
            return cls(str(data["keyId"]), unb64url(data["payload"]), unb64url(data["sig"]))
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError, binascii.Error) as exc:
            raise ValueError(f"not a manifest envelope: {exc}") from None

    def document(self) -> dict[str, Any]:
        return json.loads(self.payload)
