"""The dynamic check API: the answer a device would compute from the CDN manifests, computed on the
server from the same published files, plus the server-state parts (time-window quota claims).

A warm container keeps the verified index and segments of each (tenant, platform) and revalidates
them by the publish state (sequence and content digest): a check costs one small DynamoDB read, plus
the claim write when a dynamic candidate is reached.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.delivery import Candidate, decide_each
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.rate_limits import RateLimit
from chalicelib.domain.targeting import Device
from chalicelib.domain.tenancy import TenantId
from chalicelib.manifests.reader import PublishedView
from chalicelib.services import rate_limits

CHECKS_PER_DEVICE = RateLimit(
    "check", 60, 60, "too many checks from this device; try again in a minute"
)  # per device (or user) and tenant


@dataclass(frozen=True)
class Published:
    """The view of one publication (``manifests.reader.PublishedView``), cached per warm container and
    revalidated by the publish state's sequence and content digest."""

    sequence: int
    digest: str | None
    view: PublishedView


_published: dict[tuple[str, str], Published] = {}
_files: OrderedDict[str, bytes | None] = OrderedDict()  # immutable files (segments, shards): LRU
_MAX_FILES = 2048


def immutable_file(path: str) -> bytes | None:
    """A published segment or shard (content-addressed, never changed): read once, then from memory.
    A missing file is not remembered, so it is read again next time."""
    from chalicelib.store import delivery as store

    if path in _files:
        _files.move_to_end(path)
        return _files[path]
    body = store.get_file(path)
    if body is not None:
        _files[path] = body
        if len(_files) > _MAX_FILES:
            _files.popitem(last=False)
    return body


def load_published(tenant: TenantId, platform: str, state: Any) -> Published | None:
    """The verified index of the publish ``state`` (sequence + content digest), from memory when this
    container already read that very publication; None when nothing is published."""
    from chalicelib.manifests.publisher import index_path
    from chalicelib.manifests.reader import open_envelope
    from chalicelib.services import signing_keys
    from chalicelib.store import delivery as store

    key = (tenant.key, platform)
    cached = _published.get(key)
    if cached is not None and (cached.sequence, cached.digest) == (state.sequence, state.digest):
        return cached
    if state.sequence == 0:
        return None
    keys = signing_keys.public_keys(tenant)
    index = open_envelope(store.get_file(index_path(tenant, platform)), keys, "index")
    loaded = Published(int(index["sequence"]), state.digest, PublishedView(index, keys, immutable_file))
    _published[key] = loaded
    return loaded


def check(product_name: str, context: dict[str, Any], *, now: int | None = None) -> dict[str, Any]:
    """The client answer for a device context, without grants. Raises as ``check_with_grants``."""
    return check_with_grants(product_name, context, now=now)[0]


def check_with_grants(
    product_name: str, context: dict[str, Any], *, now: int | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(answer, grants): the client answer, and a signed grant (``domain.grants``) for every time-window
    place the device holds in it, to keep on the device. A claim that fills a window re-publishes the
    platform's index, where the entry is then ``closed``.

    Raises:
        ValidationError: a bad context. NotFound: an unknown product. RateLimited: too many checks.
    """
    from chalicelib.services import products, publishing
    from chalicelib.store import delivery as store

    now = int(time.time()) if now is None else now
    spec = products.get(product_name)
    for name in ("appId", "workspaceId"):
        if not isinstance(context.get(name), str) or not context.get(name):
            raise ValidationError(name, "is required")
    tenant = TenantId.parse(context["appId"], context["workspaceId"])
    device = Device.from_context(context)
    _rate_limit(tenant, device, now)

    state = store.get_state(tenant, device.platform.value)
    published = load_published(tenant, device.platform.value, state)
    held: list[Candidate] = []
    reached: list[Candidate] = []  # dynamic entries this check claimed (won or not)

    def claim(candidate: Candidate) -> bool:
        won = spec.claim(tenant, candidate, device, now=now)
        if candidate.dynamic:
            reached.append(candidate)
            if won:
                held.append(candidate)
        return won

    chosen: dict[str, Candidate] = {}
    if published is not None:
        view = published.view
        chosen = decide_each(
            view.candidates_for(product_name, device), device, view.membership(), now=now, claim=claim
        )
    # full but still open in the manifest (this claim took the last place, or another platform's did):
    # close it, so that nobody else asks
    if any(not c.closed and spec.is_full(tenant, c) for c in reached):
        publishing.changed(tenant, product_name, (device.platform,))
    # a place in a window that has an end (every real time window): a place without one is not granted
    grants = [_grant(tenant, product_name, c, device, now) for c in held if c.not_after is not None]
    return spec.answer(chosen, device), grants


def _grant(tenant: TenantId, product: str, candidate: Candidate, device: Device, now: int) -> dict[str, Any]:
    """The signed grant of a held place, by the tenant's manifest key (the devices pin it already)."""
    import json

    from chalicelib.domain.errors import present
    from chalicelib.domain.grants import Grant, identity_hash
    from chalicelib.domain.manifests import canonical_json
    from chalicelib.security.signing import sign
    from chalicelib.services import signing_keys

    identity = present(device.identity, "the identity of a device that won a place")
    until = present(candidate.not_after, "the end of a time window")
    grant = Grant(
        tenant.app_id, tenant.workspace_id, product, candidate.id, identity_hash(identity), until, now
    )
    key_id, private = signing_keys.current(tenant)
    envelope: dict[str, Any] = json.loads(sign(private, key_id, canonical_json(grant.document())).to_bytes())
    return envelope


def _rate_limit(tenant: TenantId, device: Device, now: int) -> None:
    who = device.device_id or device.user_id
    if not who:
        raise ValidationError("deviceId", "a deviceId or userId is required")
    rate_limits.take(CHECKS_PER_DEVICE, f"{tenant.key}#{who}", now=now)
