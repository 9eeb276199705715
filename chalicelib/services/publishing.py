"""Re-publishing what a change affects, coalesced; and the reconciler that rebuilds everything.

``changed`` is called by services after they commit. Only one publisher works on a (tenant, product,
platform) at a time (a lease in the publish state); a change that arrives meanwhile marks the state
dirty and the lease holder publishes once more, so a burst of changes costs a couple of publications,
not one each.
"""

from __future__ import annotations

import logging
import time

from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.logs import log

LEASE_SECONDS = 30.0


def changed(
    tenant: TenantId, product: str, platforms: tuple[Platform, ...] = (Platform.ANDROID, Platform.IOS)
) -> None:
    """A committed change may alter what devices of ``product`` on ``platforms`` get: re-publish them."""
    for platform in platforms:
        if platform is Platform.ALL:
            changed(tenant, product)
            continue
        publish(tenant, product, platform)


def publish(tenant: TenantId, product: str, platform: Platform, *, force: bool = False) -> int | None:
    """Publish now, or leave it to the publisher already at work. Returns the sequence if we published."""
    from chalicelib.manifests import publisher
    from chalicelib.services import products, signing_keys
    from chalicelib.store import delivery as store

    spec = products.get(product)
    if not store.try_lock(tenant, product, platform.value, now=time.time(), hold_seconds=LEASE_SECONDS):
        return None  # the holder sees the dirty mark and publishes again after its current run
    sequence = None
    try:
        while True:
            now = int(time.time())
            result = publisher.publish(
                tenant, product, platform, spec.candidates(tenant, platform, now=now),
                signer=publisher.Signer(*signing_keys.current(tenant)), now=now, force=force,
            )  # fmt: skip
            sequence = result.sequence
            if result.changed:
                log(
                    logging.INFO,
                    "published",
                    tenant=tenant.key,
                    product=product,
                    platform=platform.value,
                    sequence=sequence,
                )
            if not store.unlock(tenant, product, platform.value):
                return sequence
            if not store.try_lock(
                tenant, product, platform.value, now=time.time(), hold_seconds=LEASE_SECONDS
            ):
                return sequence  # someone else took over the next round
    except BaseException:
        store.unlock(tenant, product, platform.value)
        raise


def republish_tenant(tenant: TenantId, *, force: bool = False) -> None:
    """Everything a tenant has published: after a whitelist change (only indexes whose content changes
    are rewritten) or a key rotation (``force``: re-sign everything)."""
    for product, platform in _published_for(tenant):
        publish(tenant, product, platform, force=force)


def _published_for(tenant: TenantId) -> list[tuple[str, Platform]]:
    from chalicelib.store import delivery as store

    found = []
    for key, _state in store.published_states():
        _, app_id, workspace_id, product, platform = key.split("#")
        if (app_id, workspace_id) == (tenant.app_id, tenant.workspace_id):
            found.append((product, Platform(platform)))
    return found


def reconcile() -> int:
    """Rebuild every published (tenant, product, platform) from DynamoDB: fixes drift, ends expired time
    windows. Idempotent: on a consistent state nothing is written. Returns how many indexes changed."""
    from chalicelib.store import delivery as store

    changed_count = 0
    for key, state in store.published_states():
        _, app_id, workspace_id, product, platform = key.split("#")  # publish#<app>#<ws>#<product>#<platform>
        tenant = TenantId(app_id, workspace_id)
        before = state.sequence
        after = publish(tenant, product, Platform(platform))
        if after is not None and after != before:
            changed_count += 1
    return changed_count


def status(call, tenant: TenantId, product: str, platform: str) -> dict:  # noqa: ANN001 - services.context.Call
    """What is published for (product, platform): sequence, time, and where devices read it."""
    from chalicelib.config import settings
    from chalicelib.domain.access import Permission
    from chalicelib.manifests.publisher import index_path
    from chalicelib.services import audit, products
    from chalicelib.store import delivery as store

    audit.check(call, tenant, Permission.READ, action="delivery.read")
    products.get(product)
    parsed = Platform.parse(platform)
    state = store.get_state(tenant, product, parsed.value)
    return {
        "product": product,
        "platform": parsed.value,
        "sequence": state.sequence,
        "publishedAt": state.published_at,
        "notAfter": state.not_after,
        "indexUrl": f"{settings().cdn_base_url}/{index_path(tenant, product, parsed)}",
    }
