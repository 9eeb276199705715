"""Storage for static delivery: tenant signing keys, publish state, and files in the delivery bucket.

Signing keys, publish state and delivery settings are small items in the Tenants table
(``signing#<tenant>``, ``index#<tenant>#<platform>``, ``delivery#<tenant>``); published files go to the
delivery bucket behind the CDN. (``publish#<tenant>#<product>#<platform>`` items are the state of the
per-product indexes published before the combined index; the reconciler still finds their tenants.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import BinaryAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.models import Model

from chalicelib.config import settings
from chalicelib.domain.tenancy import TenantId
from chalicelib.store.aws import client
from chalicelib.store.models import _meta


class SigningKeyModel(Model):
    Meta = _meta("Tenants")
    tenant = UnicodeAttribute(hash_key=True)  # "signing#<tenant>"
    key_id = UnicodeAttribute()
    private_sealed = BinaryAttribute(legacy_encoding=False)
    public_raw = BinaryAttribute(legacy_encoding=False)
    created_at = UnicodeAttribute()
    previous = JSONAttribute(null=True)  # [{"keyId", "public"(b64), "retiredAt"}]: still accepted by devices


class PublishStateModel(Model):
    Meta = _meta("Tenants")
    tenant = UnicodeAttribute(hash_key=True)  # "index#<tenant>#<platform>"
    sequence = NumberAttribute(default=0)
    digest = UnicodeAttribute(null=True)  # of the published content, sequence aside
    sections = JSONAttribute(null=True)  # {product: {"digest", "sequence", "poll"}}: per-product indexes
    published_at = UnicodeAttribute(null=True)
    not_after = NumberAttribute(null=True)
    lock_until = NumberAttribute(null=True)
    dirty = NumberAttribute(default=0)  # 1: changed since the last publication began


class DeliverySettingsModel(Model):
    Meta = _meta("Tenants")
    tenant = UnicodeAttribute(hash_key=True)  # "delivery#<tenant>"
    poll_seconds = NumberAttribute()


# --- signing keys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredSigningKey:
    key_id: str
    private_sealed: bytes
    public_raw: bytes
    created_at: str
    previous: list[dict[str, Any]]


def get_signing_key(tenant: TenantId) -> StoredSigningKey | None:
    try:
        m = SigningKeyModel.get(f"signing#{tenant.key}", consistent_read=True)
    except SigningKeyModel.DoesNotExist:
        return None
    return StoredSigningKey(
        m.key_id, bytes(m.private_sealed), bytes(m.public_raw), m.created_at, m.previous or []
    )


def put_signing_key(tenant: TenantId, key: StoredSigningKey, *, replace_key_id: str | None) -> bool:
    """Create (``replace_key_id`` None: only if absent) or rotate (only if the current key is still
    ``replace_key_id``). False if someone else got there first."""
    model = SigningKeyModel(
        tenant=f"signing#{tenant.key}",
        key_id=key.key_id,
        private_sealed=key.private_sealed,
        public_raw=key.public_raw,
        created_at=key.created_at,
        previous=key.previous,
    )
    condition = (
        SigningKeyModel.tenant.does_not_exist()
        if replace_key_id is None
        else SigningKeyModel.key_id == replace_key_id
    )
    try:
        model.save(condition=condition)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


# --- publish state (one per tenant and platform) -------------------------------------------------

STATE_PREFIX = "index#"
LEGACY_STATE_PREFIX = "publish#"


def _state_key(tenant: TenantId, platform: str) -> str:
    return f"{STATE_PREFIX}{tenant.key}#{platform}"


@dataclass(frozen=True)
class PublishState:
    sequence: int
    digest: str | None
    published_at: str | None
    not_after: int | None
    sections: dict[str, dict[str, Any]]  # product -> {"digest", "sequence", "poll"} of its per-product index
    dirty: bool = False  # a committed change is waiting for a publication (``mark_changed``)
    lock_until: float | None = None  # a publisher holds the lease until then (``try_lock``)

    def locked(self, now: float) -> bool:
        return self.lock_until is not None and self.lock_until >= now


def _state(m: PublishStateModel) -> PublishState:
    return PublishState(
        int(m.sequence or 0),
        m.digest,
        m.published_at,
        int(m.not_after) if m.not_after else None,
        dict(m.sections or {}),
        bool(m.dirty),
        float(m.lock_until) if m.lock_until is not None else None,
    )


def get_state(tenant: TenantId, platform: str) -> PublishState:
    try:
        return _state(PublishStateModel.get(_state_key(tenant, platform), consistent_read=True))
    except PublishStateModel.DoesNotExist:
        return PublishState(0, None, None, None, {})


def mark_changed(tenant: TenantId, platform: str) -> None:
    """Record that a committed change waits for a publication: the lock holder, the publish worker
    and the reconciler all see it, so a publication that fails or never starts is not forgotten."""
    PublishStateModel(tenant=_state_key(tenant, platform)).update(actions=[PublishStateModel.dirty.set(1)])


def try_lock(tenant: TenantId, platform: str, *, now: float, hold_seconds: float) -> bool:
    """Take the publisher lock, or mark the state dirty for the holder to pick up (coalescing)."""
    model = PublishStateModel(tenant=_state_key(tenant, platform))
    try:
        model.update(
            actions=[PublishStateModel.lock_until.set(now + hold_seconds), PublishStateModel.dirty.set(0)],
            # nobody holds it, or the holder's lease ran out (a crashed publisher)
            condition=PublishStateModel.lock_until.does_not_exist() | (PublishStateModel.lock_until < now),
        )
        return True
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    mark_changed(tenant, platform)
    return False


def unlock(tenant: TenantId, platform: str) -> bool:
    """Release the lock; True if a change arrived meanwhile (dirty): then the caller publishes again."""
    model = PublishStateModel(tenant=_state_key(tenant, platform))
    model.update(actions=[PublishStateModel.lock_until.remove()])  # returns the item: dirty included
    return bool(model.dirty)


def next_sequence(counter_name: str) -> int:
    """Reserve the next number of a sequence (one atomic ADD): strictly increasing even across crashes.
    ``counter_name``: ``index_counter`` or ``legacy_counter``."""
    from chalicelib.store.models import SequenceModel

    counter = SequenceModel(tenant=f"seq#{counter_name}")
    counter.update(actions=[SequenceModel.value.add(1)])
    return int(counter.value)


def index_counter(tenant: TenantId, platform: str) -> str:
    return _state_key(tenant, platform)


def legacy_counter(tenant: TenantId, product: str, platform: str) -> str:
    """The per-product index's own counter (the one it used before the combined index), so devices
    that pinned its sequence never see it go back."""
    return f"{LEGACY_STATE_PREFIX}{tenant.key}#{product}#{platform}"


def record_published(
    tenant: TenantId,
    platform: str,
    *,
    sequence: int,
    digest: str,
    sections: dict[str, dict[str, Any]],
    published_at: str,
    not_after: int | None,
) -> None:
    model = PublishStateModel(tenant=_state_key(tenant, platform))
    model.update(
        actions=[
            PublishStateModel.sequence.set(sequence),
            PublishStateModel.digest.set(digest),
            PublishStateModel.sections.set(sections),
            PublishStateModel.published_at.set(published_at),
            PublishStateModel.not_after.set(not_after)
            if not_after is not None
            else PublishStateModel.not_after.remove(),
        ],
        # a slower publisher that reserved a lower sequence must not overwrite a newer state
        condition=PublishStateModel.sequence.does_not_exist() | (PublishStateModel.sequence < sequence),
    )


def published_platforms() -> list[tuple[TenantId, str]]:
    """Every (tenant, platform) with something published, combined or (before it) per product: what
    the reconciler walks."""
    found: set[tuple[TenantId, str]] = set()
    for prefix in (STATE_PREFIX, LEGACY_STATE_PREFIX):
        for m in PublishStateModel.scan(PublishStateModel.tenant.startswith(prefix)):
            # index#<app>#<ws>#<platform> | publish#<app>#<ws>#<product>#<platform>
            parts = m.tenant.split("#")
            found.add((TenantId(parts[1], parts[2]), parts[-1]))
    return sorted(found, key=lambda found_one: (found_one[0].key, found_one[1]))


# --- delivery settings ---------------------------------------------------------------------------


def get_poll_seconds(tenant: TenantId) -> int | None:
    try:
        return int(DeliverySettingsModel.get(f"delivery#{tenant.key}", consistent_read=True).poll_seconds)
    except DeliverySettingsModel.DoesNotExist:
        return None


def put_poll_seconds(tenant: TenantId, seconds: int) -> None:
    DeliverySettingsModel(tenant=f"delivery#{tenant.key}", poll_seconds=seconds).save()


# --- delivery bucket -----------------------------------------------------------------------------


def put_file(key: str, body: bytes, *, cache_control: str, if_absent: bool = False) -> bool:
    """Write a public file. ``if_absent``: content-addressed files are written once (False if present)."""
    s3 = client("s3")
    args: dict[str, Any] = {
        "Bucket": settings().delivery_bucket,
        "Key": key,
        "Body": body,
        "ContentType": "application/json",
        "CacheControl": cache_control,
    }
    if if_absent:
        try:
            s3.head_object(Bucket=settings().delivery_bucket, Key=key)
            return False
        except s3.exceptions.ClientError as exc:
            if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
                raise
    s3.put_object(**args)
    return True


def get_file(key: str) -> bytes | None:
    s3 = client("s3")
    try:
        return s3.get_object(Bucket=settings().delivery_bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def invalidate(paths: list[str]) -> None:
    """Ask CloudFront to drop cached copies of the changed index paths (no-op without a distribution)."""
    distribution = settings().cdn_distribution_id
    if not distribution or not paths:
        return
    import time

    client("cloudfront").create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": [f"/{p}" for p in paths]},
            "CallerReference": f"mds-{time.time_ns()}",
        },
    )
