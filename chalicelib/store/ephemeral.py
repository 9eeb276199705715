"""Short-lived facts with a TTL: request nonces (replay protection) and rate-limit windows.

DynamoDB's TTL deletes expired items eventually (hours, on AWS; never, in moto), so every read
here treats an item past ``expires_at`` as absent, and housekeeping sweeps them locally.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError

from chalicelib.store.models import EphemeralModel


def claim_once(key: str, *, now: datetime, ttl: timedelta) -> bool:
    """Record ``key`` if it is not already live. True the first time, False for a repeat.

    One conditional put, so two concurrent requests with the same nonce cannot both win.
    """
    item = EphemeralModel(key=key, count=1, expires_at=now + ttl)
    try:
        item.save(
            # not seen before, OR seen but already expired (TTL deletion lags)
            condition=EphemeralModel.key.does_not_exist() | (EphemeralModel.expires_at < now)
        )
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def hit(key: str, *, now: datetime, window: timedelta) -> int:
    """Count one event in the fixed window that ``key`` names; return the count so far.

    The caller puts the window start into the key (e.g. ``login#user#alice#<epoch // 900>``), so
    windows roll over without a read-modify-write.
    """
    item = EphemeralModel(key=key)
    item.update(
        actions=[
            EphemeralModel.count.add(1),
            EphemeralModel.expires_at.set(EphemeralModel.expires_at | (now + window)),
        ]
    )
    return int(item.count)


def count(key: str) -> int:
    try:
        return int(EphemeralModel.get(key, consistent_read=True).count)
    except EphemeralModel.DoesNotExist:
        return 0


def sweep(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Delete expired items (what DynamoDB TTL does on AWS). Returns how many were deleted."""
    now = now or datetime.now(UTC)
    deleted = 0
    with EphemeralModel.batch_write() as batch:
        for item in EphemeralModel.scan(EphemeralModel.expires_at < now, limit=limit):
            batch.delete(item)
            deleted += 1
    return deleted
