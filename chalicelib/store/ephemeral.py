"""Short-lived facts with a TTL: request nonces (replay protection) and rate-limit event logs.

DynamoDB's TTL deletes expired items eventually (hours, on AWS; never, in moto), so every read
here treats an item past ``expires_at`` as absent, and housekeeping sweeps them locally.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError

from chalicelib.domain.rate_limits import EventLog
from chalicelib.store.models import EphemeralModel


def claim_once(key: str, *, now: datetime, ttl: timedelta) -> bool:
    """Record ``key`` if it is not already live. True the first time, False for a repeat.

    One conditional put, so two concurrent requests with the same nonce cannot both win.
    """
    item = EphemeralModel(key=key, hits=1, expires_at=now + ttl)
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


def read_log(key: str) -> tuple[EventLog, int]:
    """A rate limit's event log and its revision (0 when there is none yet)."""
    try:
        item = EphemeralModel.get(key, consistent_read=True)
    except EphemeralModel.DoesNotExist:
        return EventLog(), 0
    return EventLog(tuple(int(t) for t in item.times or ())), int(item.revision or 0)


def write_log(key: str, log: EventLog, *, revision: int, expires_at: datetime) -> bool:
    """Replace the log read at ``revision``. False when another writer got there first (re-read)."""
    item = EphemeralModel(key=key, times=list(log.times), revision=revision + 1, expires_at=expires_at)
    unchanged = (
        EphemeralModel.key.does_not_exist() | EphemeralModel.revision.does_not_exist()
        if revision == 0
        else EphemeralModel.revision == revision
    )
    try:
        item.save(condition=unchanged)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def sweep(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Delete expired items (what DynamoDB TTL does on AWS). Returns how many were deleted."""
    now = now or datetime.now(UTC)
    deleted = 0
    with EphemeralModel.batch_write() as batch:
        for item in EphemeralModel.scan(EphemeralModel.expires_at < now, limit=limit):
            batch.delete(item)
            deleted += 1
    return deleted
