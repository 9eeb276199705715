"""Publishing one (tenant, platform): every product's candidates → signed segments, whitelist shards,
then one signed index.

Order of writes (a reader never sees a half-published state):
1. segment files, per product and content-addressed (``<product>/<platform>/seg/<key id>/<sha256>.json``):
   written once, never changed or deleted, so a change to one product leaves every other product's
   segment URLs (and the devices' copies) as they were;
2. whitelist shards under a versioned prefix, then that prefix's ``complete.json`` marker;
3. the deprecated per-product indexes of the products whose section changed (each with its own
   strictly increasing counter);
4. the combined index last, which is the file devices poll. Its sequence number comes from an atomic
   counter, so it only ever grows.
An unchanged publication (same content digest) writes nothing: re-running is idempotent. Only the
changed index paths are invalidated on the CDN.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.manifests import (
    IMMUTABLE_CACHE,
    INDEX_SCHEMA,
    SCHEMA,
    Envelope,
    Segment,
    canonical_json,
    index_cache_control,
    index_document,
    product_section_document,
    sha256_hex,
)
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId


def index_path(tenant: TenantId, platform: Platform | str) -> str:
    """The one file a device polls: every product of its platform."""
    return f"m/{tenant.app_id}/{tenant.workspace_id}/{Platform(platform).value}/index.json"


def product_base(tenant: TenantId, product: str, platform: Platform | str) -> str:
    return f"m/{tenant.app_id}/{tenant.workspace_id}/{product}/{Platform(platform).value}/"


def legacy_index_path(tenant: TenantId, product: str, platform: Platform | str) -> str:
    """Deprecated: the per-product index clients of protocol 1 poll (docs/delivery.md, "Deprecated")."""
    return product_base(tenant, product, platform) + "index.json"


@dataclass(frozen=True)
class Published:
    sequence: int
    changed: bool
    index_path: str
    products_changed: tuple[str, ...] = ()
    bytes_written: int = 0
    files_written: int = 0


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


class _Writer:
    """Counts what a publication writes (the publish-scale bench reports it)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.files = 0

    def put(self, path: str, body: bytes, *, cache_control: str, if_absent: bool = False) -> None:
        from chalicelib.store import delivery as store

        if store.put_file(path, body, cache_control=cache_control, if_absent=if_absent):
            self.bytes += len(body)
            self.files += 1


def publish(
    tenant: TenantId,
    platform: Platform,
    candidates_by_product: Mapping[str, list[Candidate]],
    *,
    signer: Signer,
    now: int,
    poll_seconds: int,
    force: bool = False,
) -> Published:
    """``force``: publish even if the content is unchanged (a new signing key must re-sign the index)."""
    from datetime import UTC, datetime

    from chalicelib.domain.time_zones import iso
    from chalicelib.store import delivery as store

    writer = _Writer()
    path = index_path(tenant, platform)
    known = set() if force else _paths_in(store.get_file(path))  # files the live index names exist
    written: dict[tuple[str, str], dict[str, str]] = {}  # identical segments of a product share one file

    def entry(product: str, segment: Segment) -> dict[str, str]:
        document = segment.document()
        digest = sha256_hex(canonical_json(document))
        if (product, digest) not in written:
            file_path = f"{product_base(tenant, product, platform)}seg/{signer.key_id}/{digest}.json"
            if file_path not in known:  # re-signed files get new paths
                body, _ = signer.envelope(document)
                writer.put(file_path, body, cache_control=IMMUTABLE_CACHE, if_absent=True)
            written[(product, digest)] = {"path": file_path, "sha256": digest}
        return written[(product, digest)]

    sections: dict[str, dict[str, Any]] = {}
    for product in sorted(candidates_by_product):
        sections[product] = product_section_document(candidates_by_product[product], partial(entry, product))
    whitelist_ids = sorted({w for section in sections.values() for w in section["whitelists"]})
    whitelists = {wid: publish_whitelist(tenant, wid, signer, writer) for wid in whitelist_ids}
    content = index_document(
        tenant.app_id, tenant.workspace_id, platform.value, sections, whitelists, poll_seconds
    )
    not_after = content["notAfter"]
    digest = sha256_hex(canonical_json(content))
    state = store.get_state(tenant, platform.value)
    if state.digest == digest and not force:
        return Published(state.sequence, False, path)
    published_at = iso(datetime.fromtimestamp(now, UTC))
    cache_control = index_cache_control(poll_seconds)
    changed_paths: list[str] = []
    legacy: dict[str, dict[str, Any]] = {}
    for product, section in sections.items():
        document = _legacy_index(tenant, product, platform, section, whitelists)
        # the whole per-product document, whitelist versions included, and its CDN headers
        record = {
            "digest": section["digest"],
            "legacy": sha256_hex(canonical_json(document)),
            "poll": poll_seconds,
        }
        before = state.sections.get(product)
        if before is not None and not force and all(before.get(k) == record[k] for k in record):
            legacy[product] = before
            continue
        legacy_sequence = store.next_sequence(store.legacy_counter(tenant, product, platform.value))
        body, _ = signer.envelope(document | {"sequence": legacy_sequence, "publishedAt": published_at})
        legacy_path = legacy_index_path(tenant, product, platform)
        writer.put(legacy_path, body, cache_control=cache_control)
        changed_paths.append(legacy_path)
        legacy[product] = {**record, "sequence": legacy_sequence}
    sequence = store.next_sequence(store.index_counter(tenant, platform.value))
    body, _ = signer.envelope({**content, "sequence": sequence, "publishedAt": published_at})
    writer.put(path, body, cache_control=cache_control)
    store.record_published(
        tenant,
        platform.value,
        sequence=sequence,
        digest=digest,
        sections=legacy,
        published_at=published_at,
        not_after=not_after,
    )
    store.invalidate([path, *changed_paths])
    products_changed = tuple(
        p for p in sections if state.sections.get(p, {}).get("digest") != sections[p]["digest"]
    )
    return Published(sequence, True, path, products_changed, writer.bytes, writer.files)


def _legacy_index(
    tenant: TenantId,
    product: str,
    platform: Platform,
    section: Mapping[str, Any],
    whitelists: Mapping[str, Any],
) -> dict[str, Any]:
    """The schema-1 per-product index of one section (the shape clients of protocol 1 read)."""
    return {
        "schema": SCHEMA,
        "appId": tenant.app_id,
        "workspaceId": tenant.workspace_id,
        "product": product,
        "platform": platform.value,
        "cuts": section["cuts"],
        "segments": section["segments"],
        "unversioned": section["unversioned"],
        "whitelists": {wid: whitelists[wid] for wid in section["whitelists"]},
        "notAfter": section["notAfter"],
    }


def _paths_in(raw: bytes | None) -> set[str]:
    """Segment paths the published index lists (they exist: the index is written last)."""
    if raw is None:
        return set()
    try:
        document = Envelope.parse(raw).document()
    except ValueError:
        return set()
    if document.get("schema") != INDEX_SCHEMA:
        return set()
    return {
        e["path"]
        for section in document.get("products", {}).values()
        for e in [*section.get("segments", []), section.get("unversioned", {})]
        if "path" in e
    }


def publish_whitelist(tenant: TenantId, whitelist_id: str, signer: Signer, writer: _Writer) -> dict[str, Any]:
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
            writer.put(f"{prefix}{shard}.json", body, cache_control=IMMUTABLE_CACHE)
        writer.put(prefix + "complete.json", b"{}", cache_control=IMMUTABLE_CACHE)
    return {"type": "normal", "salt": whitelist.salt, "version": version, "path": prefix}
