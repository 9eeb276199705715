"""The dynamic check API: the answer a device would compute from the CDN manifests, computed on the
server from the same published files, plus the server-state parts (time-window quota claims).

A warm container keeps the verified index and segments of each (tenant, product, platform) and
revalidates them by the publish state (sequence and content digest): a check costs one small DynamoDB
read, plus the claim write when a dynamic candidate is reached.
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


_published: dict[tuple[str, str, str], Published] = {}
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


def load_published(tenant: TenantId, product: str, platform: str, state: Any) -> Published | None:
    """The verified index of the publish ``state`` (sequence + content digest), from memory when this
    container already read that very publication; None when nothing is published."""
    from chalicelib.manifests.publisher import index_path
    from chalicelib.manifests.reader import open_envelope
    from chalicelib.services import signing_keys
    from chalicelib.store import delivery as store

    key = (tenant.key, product, platform)
    cached = _published.get(key)
    if cached is not None and (cached.sequence, cached.digest) == (state.sequence, state.digest):
        return cached
    if state.sequence == 0:
        return None
    keys = signing_keys.public_keys(tenant)
    index = open_envelope(store.get_file(index_path(tenant, product, platform)), keys, "index")
    loaded = Published(int(index["sequence"]), state.digest, PublishedView(index, keys, immutable_file))
    _published[key] = loaded
    return loaded


def check(product_name: str, context: dict[str, Any], *, now: int | None = None) -> dict[str, Any]:
    """Raises ValidationError for a bad context, NotFound for an unknown product, RateLimited."""
    from chalicelib.services import products
    from chalicelib.store import delivery as store

    now = int(time.time()) if now is None else now
    spec = products.get(product_name)
    for name in ("appId", "workspaceId"):
        if not isinstance(context.get(name), str) or not context.get(name):
            raise ValidationError(name, "is required")
    tenant = TenantId.parse(context["appId"], context["workspaceId"])
    device = Device.from_context(context)
    _rate_limit(tenant, device, now)

    state = store.get_state(tenant, product_name, device.platform.value)
    published = load_published(tenant, product_name, device.platform.value, state)
    chosen: dict[str, Candidate] = {}
    if published is not None:
        view = published.view
        chosen = decide_each(
            view.candidates_for(device), device, view.membership(), now=now,
            claim=lambda c: spec.claim(tenant, c, device, now=now),
        )
    return spec.answer(chosen, device)


def _rate_limit(tenant: TenantId, device: Device, now: int) -> None:
    who = device.device_id or device.user_id
    if not who:
        raise ValidationError("deviceId", "a deviceId or userId is required")
    rate_limits.take(CHECKS_PER_DEVICE, f"{tenant.key}#{who}", now=now)
