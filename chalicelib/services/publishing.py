"""Re-publishing what a change affects, after the commit and off the request path; and the
reconciler that rebuilds everything.

What devices poll is one index per (tenant, platform) for every product, so a publication rebuilds
every product's section of that platform from DynamoDB (unchanged segments are not rewritten: they are
content-addressed) and signs one index.

``changed`` is called by services after they commit. It marks the (tenant, platform) publish state
changed and, in ``queued`` mode (Lambda, ``make run``), sends one message to the publish queue:
the console answers without waiting for signing, S3 writes or the CDN. The publish worker
(``on_changed``) publishes; a publication that fails raises, so SQS delivers the message again (DLQ
after 5 tries), and the state stays marked changed for the reconciler meanwhile. In ``inline`` mode
(the test suite) the request publishes before answering, and a failure is logged and handed to the
worker the same way: never a 500 for a change that was committed.

Only one publisher works on a (tenant, platform) at a time (a lease in the publish state); a change
that arrives meanwhile marks the state changed and the lease holder publishes once more, so a burst of
changes — to one product or to several — costs a couple of publications, not one each. A message
whose change a publication has already covered (the state is no longer marked) costs one read.
"""

from __future__ import annotations

import json
import logging
import time

from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.logs import log

LEASE_SECONDS = 30.0
PLATFORMS = (Platform.ANDROID, Platform.IOS)


def changed(tenant: TenantId, product: str, platforms: tuple[Platform, ...] = PLATFORMS) -> None:
    """A committed change may alter what devices of ``product`` on ``platforms`` get: have them
    re-published. Never raises for a publication problem: the change is committed whatever happens."""
    from chalicelib.store import delivery as store

    targets = tuple(dict.fromkeys(p for platform in platforms for p in _concrete(platform)))
    for platform in targets:
        store.mark_changed(tenant, platform.value)
    _dispatch(tenant, product, targets, force=False)


def _concrete(platform: Platform) -> tuple[Platform, ...]:
    return PLATFORMS if platform is Platform.ALL else (platform,)


def _dispatch(tenant: TenantId, product: str, platforms: tuple[Platform, ...], *, force: bool) -> None:
    from chalicelib.config import settings

    if settings().publish_mode == "inline":
        try:
            for platform in platforms:
                _publish_before_answering(tenant, platform, force=force)
            return
        except Exception as exc:  # noqa: BLE001 - committed already: the worker retries, the caller is not told
            log(logging.WARNING, "publish failed; queued for the worker", tenant=tenant.key,
                product=product, error=repr(exc))  # fmt: skip
    _enqueue(tenant, product, platforms, force=force)


def _publish_before_answering(tenant: TenantId, platform: Platform, *, force: bool) -> None:
    """Inline mode: return once a publication carries the change — ours, or, while another publisher
    holds the lease (the upload worker, the reconciler), the round it runs after seeing our mark. Waits
    at most one lease; then the mark stays for whoever publishes next."""
    from chalicelib.store import delivery as store

    deadline = time.monotonic() + LEASE_SECONDS
    while publish(tenant, platform, force=force) is None:
        state = store.get_state(tenant, platform.value)
        while state.locked(time.time()):
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
            state = store.get_state(tenant, platform.value)
        if not state.dirty:
            return  # the holder's last round published it


def _enqueue(tenant: TenantId, product: str, platforms: tuple[Platform, ...], *, force: bool) -> None:
    from chalicelib.config import settings
    from chalicelib.store import queues

    body = {"appId": tenant.app_id, "workspaceId": tenant.workspace_id, "product": product,
            "platforms": [p.value for p in platforms], "force": force}  # fmt: skip
    try:
        queues.send(settings().publish_queue, json.dumps(body, separators=(",", ":")))
    except Exception as exc:  # noqa: BLE001 - still marked changed: the reconciler publishes within a minute
        log(logging.ERROR, "publish not queued; left to the reconciler", tenant=tenant.key,
            product=product, error=repr(exc))  # fmt: skip


def on_changed(bodies: list[str]) -> int:
    """The publish worker: one publication per distinct (tenant, platform) of a batch of messages,
    skipped when a publication has already covered the change. Raises if one fails (SQS delivers the
    batch again; what was published stays published). Returns how many were published."""
    from chalicelib.store import delivery as store

    wanted: dict[tuple[TenantId, Platform], bool] = {}
    for body in bodies:
        message = json.loads(body)  # "product" says what changed (logs); the index holds every product
        tenant = TenantId(message["appId"], message["workspaceId"])
        for platform in message["platforms"]:
            key = (tenant, Platform(platform))
            wanted[key] = wanted.get(key, False) or bool(message.get("force"))
    published = 0
    for (tenant, platform), force in wanted.items():
        if not force and not store.get_state(tenant, platform.value).dirty:
            continue  # a publication that began after the change already carries it
        if publish(tenant, platform, force=force) is not None:
            published += 1
    return published


def poll_seconds(tenant: TenantId) -> int:
    """The tenant's poll interval (``services.delivery_settings``), or the default."""
    from chalicelib.domain.manifests import POLL_DEFAULT_SECONDS
    from chalicelib.store import delivery as store

    return store.get_poll_seconds(tenant) or POLL_DEFAULT_SECONDS


def publish(tenant: TenantId, platform: Platform, *, force: bool = False) -> int | None:
    """Publish now, or leave it to the publisher already at work. Returns the sequence if we published."""
    from chalicelib.manifests import publisher
    from chalicelib.services import products, signing_keys
    from chalicelib.store import delivery as store

    if not store.try_lock(tenant, platform.value, now=time.time(), hold_seconds=LEASE_SECONDS):
        return None  # the holder sees the changed mark and publishes again after its current run
    sequence = None
    try:
        while True:
            now = int(time.time())
            candidates = {
                name: products.get(name).candidates(tenant, platform, now=now) for name in products.names()
            }
            result = publisher.publish(
                tenant, platform, candidates, signer=publisher.Signer(*signing_keys.current(tenant)),
                now=now, poll_seconds=poll_seconds(tenant), force=force,
            )  # fmt: skip
            sequence = result.sequence
            if result.changed:
                log(logging.INFO, "published", tenant=tenant.key, platform=platform.value,
                    sequence=sequence, products=list(result.products_changed))  # fmt: skip
            if not store.unlock(tenant, platform.value):
                return sequence
            force = False  # the forced round re-signed everything; the next only catches up
            if not store.try_lock(tenant, platform.value, now=time.time(), hold_seconds=LEASE_SECONDS):
                return sequence  # someone else took over the next round
    except BaseException:
        # taking the lease cleared the changed mark: put it back, so the retry (worker, reconciler)
        # knows this publication is still owed
        store.mark_changed(tenant, platform.value)
        store.unlock(tenant, platform.value)
        raise


def republish_tenant(tenant: TenantId, *, force: bool = False) -> None:
    """Everything a tenant has published: after a whitelist or poll-setting change (only indexes whose
    content changes are rewritten) or a key rotation (``force``: re-sign everything). Queued like
    ``changed``."""
    from chalicelib.store import delivery as store

    platforms = tuple(Platform(p) for found, p in store.published_platforms() if found == tenant)
    for platform in platforms:
        store.mark_changed(tenant, platform.value)
    if platforms:
        _dispatch(tenant, "*", platforms, force=force)


def reconcile() -> int:
    """Rebuild every published (tenant, platform) from DynamoDB: fixes drift, ends expired time
    windows, closes full ones. Idempotent: on a consistent state nothing is written. Returns how many
    indexes changed."""
    from chalicelib.store import delivery as store

    changed_count = 0
    for tenant, platform in store.published_platforms():
        before = store.get_state(tenant, platform).sequence
        after = publish(tenant, Platform(platform))
        if after is not None and after != before:
            changed_count += 1
    return changed_count


def status(call, tenant: TenantId, product: str, platform: str) -> dict:
    """What is published for (product, platform): the platform index's sequence and time, where devices
    read it, and the product's section (its digest; the deprecated per-product index and its sequence)."""
    from chalicelib.config import settings
    from chalicelib.domain.access import Permission
    from chalicelib.manifests.publisher import index_path, legacy_index_path
    from chalicelib.services import audit, products
    from chalicelib.store import delivery as store

    audit.check(call, tenant, Permission.READ, action="delivery.read")
    products.get(product)
    parsed = Platform.parse(platform)
    state = store.get_state(tenant, parsed.value)
    section = state.sections.get(product, {})
    return {
        "product": product,
        "platform": parsed.value,
        "sequence": state.sequence,
        "publishedAt": state.published_at,
        "notAfter": state.not_after,
        "pending": state.dirty,  # a committed change the publish worker has not published yet
        "pollSeconds": poll_seconds(tenant),
        "indexUrl": f"{settings().cdn_base_url}/{index_path(tenant, parsed)}",
        "productDigest": section.get("digest"),
        "legacyIndexUrl": f"{settings().cdn_base_url}/{legacy_index_path(tenant, product, parsed)}",
        "legacySequence": section.get("sequence", 0),
    }
