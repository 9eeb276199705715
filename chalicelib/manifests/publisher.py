"""Publishing one (tenant, product, platform): candidates → signed segments, whitelist shards, index.

Order of writes (a reader never sees a half-published state):
1. segment files, content-addressed (``seg/<key id>/<sha256>.json``): written once, never changed or deleted;
2. whitelist shards under a versioned prefix, then that prefix's ``complete.json`` marker;
3. the index last, which is the only file that changes. Its sequence number comes from an atomic
   counter, so it only ever grows.
An unchanged publication (same content digest) writes nothing: re-running is idempotent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.manifests import (
    SCHEMA,
    Segment,
    canonical_json,
    cut_to_json,
    earliest_not_after,
    sha256_hex,
    split_segments,
    unversioned_segment,
)
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId

SEGMENT_CACHE = "public, max-age=31536000, immutable"
INDEX_CACHE = "public, max-age=30, must-revalidate"


def base_path(tenant: TenantId, product: str, platform: Platform | str) -> str:
    return f"m/{tenant.app_id}/{tenant.workspace_id}/{product}/{Platform(platform).value}/"


def index_path(tenant: TenantId, product: str, platform: Platform | str) -> str:
    return base_path(tenant, product, platform) + "index.json"


@dataclass(frozen=True)
class Published:
    sequence: int
    changed: bool
    index_path: str


class Signer:
    """Signs manifest documents with one of the tenant's keys; the caller hands it in (the key store is
    the services' business, not the publisher's)."""

    def __init__(self, key_id: str, private_key: bytes) -> None:
        self.key_id, self._private = key_id, private_key

    def envelope(self, document: dict[str, Any]) -> tuple[bytes, str]:
        """(file bytes, SHA-256 of the payload)."""
        from chalicelib.security.signing import sign

        payload = canonical_json(document)
        return sign(self._private, self.key_id, payload).to_bytes(), sha256_hex(payload)


def publish(
    tenant: TenantId,
    product: str,
    platform: Platform,
    candidates: list[Candidate],
    *,
    signer: Signer,
    now: int,
    force: bool = False,
) -> Published:
    """``force``: publish even if the content is unchanged (a new signing key must re-sign the index)."""
    from datetime import UTC, datetime

    from chalicelib.domain.time_zones import iso
    from chalicelib.store import delivery as store

    base = base_path(tenant, product, platform)
    cuts, segments = split_segments(candidates)

    written: dict[bytes, dict[str, str]] = {}  # identical segments share one file

    def entry(segment: Segment) -> dict[str, str]:
        key = canonical_json(segment.document())
        if key not in written:
            body, digest = signer.envelope(segment.document())
            path = f"{base}seg/{signer.key_id}/{digest}.json"  # re-signed files get new paths
            store.put_file(path, body, cache_control=SEGMENT_CACHE, if_absent=True)
            written[key] = {"path": path, "sha256": digest}
        return written[key]

    whitelist_ids = sorted({w for c in candidates for w in c.target.whitelist_ids})
    not_after = earliest_not_after(candidates)
    content = {
        "schema": SCHEMA,
        "appId": tenant.app_id,
        "workspaceId": tenant.workspace_id,
        "product": product,
        "platform": platform.value,
        "cuts": [cut_to_json(c) for c in cuts],
        "segments": [entry(s) for s in segments],
        "unversioned": entry(unversioned_segment(candidates)),
        "whitelists": {wid: publish_whitelist(tenant, wid, signer) for wid in whitelist_ids},
        "notAfter": not_after,
    }
    digest = sha256_hex(canonical_json(content))
    path = index_path(tenant, product, platform)
    state = store.get_state(tenant, product, platform.value)
    if state.digest == digest and not force:
        return Published(state.sequence, False, path)
    sequence = store.next_sequence(tenant, product, platform.value)
    published_at = iso(datetime.fromtimestamp(now, UTC))
    body, _ = signer.envelope({**content, "sequence": sequence, "publishedAt": published_at})
    store.put_file(path, body, cache_control=INDEX_CACHE)
    store.record_published(
        tenant,
        product,
        platform.value,
        sequence=sequence,
        digest=digest,
        index_key=path,
        published_at=published_at,
        not_after=not_after,
    )
    store.invalidate([path])
    return Published(sequence, True, path)


def publish_whitelist(tenant: TenantId, whitelist_id: str, signer: Signer) -> dict[str, Any]:
    """The index entry of a whitelist, publishing its shards first if this version is not out yet.

    Normal lists become 256 signed shards of salted hashes under a prefix named by the list's
    version, so a shard can never be mixed with another version's; regex lists publish their patterns.
    A list that no longer exists publishes as empty (its tasks match nobody through it).
    """
    from chalicelib.domain.errors import NotFound
    from chalicelib.domain.whitelists import WhitelistKind, published_shards
    from chalicelib.store import delivery as store
    from chalicelib.store import whitelists as whitelist_store

    try:
        whitelist = whitelist_store.get(tenant, whitelist_id)
    except NotFound:
        return {"type": "regex", "patterns": []}
    if whitelist.kind is WhitelistKind.REGEX:
        return {"type": "regex", "patterns": list(whitelist.patterns)}
    version_of = f"{whitelist.salt}:{whitelist.content_version or '-'}:{signer.key_id}"
    version = hashlib.sha256(version_of.encode()).hexdigest()[:16]
    prefix = f"w/{tenant.app_id}/{tenant.workspace_id}/{whitelist_id}/{version}/"
    if store.get_file(prefix + "complete.json") is None:
        shards = published_shards(whitelist.salt, list(whitelist_store.read_members(whitelist)))
        for shard, hashes in shards.items():
            body, _ = signer.envelope(
                {
                    "schema": SCHEMA,
                    "whitelistId": whitelist_id,
                    "version": version,
                    "shard": shard,
                    "hashes": hashes,
                }
            )
            store.put_file(f"{prefix}{shard}.json", body, cache_control=SEGMENT_CACHE)
        store.put_file(prefix + "complete.json", b"{}", cache_control=SEGMENT_CACHE)
    return {"type": "normal", "salt": whitelist.salt, "version": version, "path": prefix}
