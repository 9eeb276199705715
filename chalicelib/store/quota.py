"""Time-window quotas: the first N distinct users get the upgrade, never more, whatever the concurrency.

Per time-window task, in the ``QuotaClaims`` table:

    task#<id>                    the counter: claimed (starts at 0), quota (N)
    task#<id>#u#<sha256(user)>   one claim per user who got it (the identity is hashed: no raw IDs)

A claim is one ``TransactWriteItems`` of three parts, all or nothing::

    ConditionCheck  UpgradeTasks[task]     state = running AND end_time > now   (paused/ended: nobody new)
    Put             claim item             attribute_not_exists(claim_key)      (each user counts once)
    Update          counter  claimed += 1  claimed < quota                      (never more than N)

So the counter can only reach N, and only by N distinct users. A user who already holds a claim is
answered from a consistent read of their claim item and keeps getting the upgrade (idempotent). Two
concurrent requests of one user: one transaction puts the claim; the other fails on its Put condition
and is answered "yes" as well. Transactions colliding on the hot counter (``TransactionConflict``)
are retried with jittered backoff; if they keep colliding the answer is "not now" (the device asks
again later), never an over-grant.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any, Protocol

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.errors import Conflict, MdsError
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import TaskState, UpgradeTask
from chalicelib.logs import log
from chalicelib.store.models import QuotaClaimModel, UpgradeTaskModel
from chalicelib.store.unit_of_work import UnitOfWork

KEEP_AFTER_END = 30 * 24 * 3600  # claims and counters expire (DynamoDB TTL) a month after the end time
_RETRIES = 10


class WindowedTask(Protocol):
    """What a counter needs of a time-window task: an ``UpgradeTask`` or an ``H5Task``."""

    @property
    def id(self) -> str: ...

    @property
    def users_count(self) -> int | None: ...

    @property
    def end_time(self) -> int | None: ...


def _expiry(end_time: int) -> datetime:
    return datetime.fromtimestamp(end_time + KEEP_AFTER_END, UTC)


def counter_key(task_id: str) -> str:
    return f"task#{task_id}"


def claim_key(task_id: str, identity: str) -> str:
    return f"task#{task_id}#u#{hashlib.sha256(identity.encode()).hexdigest()}"


def add_counter(uow: UnitOfWork, tenant: TenantId, task: WindowedTask) -> None:
    uow.save(
        QuotaClaimModel(
            tenant=tenant.key,
            claim_key=counter_key(task.id),
            claimed=0,
            quota=task.users_count,
            expires_at=_expiry(task.end_time or 0),
        ),
        condition=QuotaClaimModel.claim_key.does_not_exist(),
    )


def resize_counter(uow: UnitOfWork, tenant: TenantId, task: UpgradeTask) -> None:
    """A modified time window: its quota and expiry, never below what users already claimed."""
    uow.update(
        QuotaClaimModel(tenant=tenant.key, claim_key=counter_key(task.id)),
        [
            # pynamodb's set() writes None as NULL, but its types leave None out
            QuotaClaimModel.quota.set(task.users_count),  # type: ignore[arg-type]
            QuotaClaimModel.expires_at.set(_expiry(task.end_time or 0)),
        ],
        condition=QuotaClaimModel.claimed <= task.users_count,  # a claim landed since it was read
        on_conflict=Conflict(
            f"more than {task.users_count} users have claimed this time window", field="usersCount"
        ),
    )


def remove_counter(uow: UnitOfWork, tenant: TenantId, task: WindowedTask) -> None:
    uow.delete(QuotaClaimModel(tenant=tenant.key, claim_key=counter_key(task.id)), versioned=False)


def claimed(tenant: TenantId, task_id: str) -> int:
    """How many distinct users have claimed so far."""
    try:
        return int(QuotaClaimModel.get(tenant.key, counter_key(task_id), consistent_read=True).claimed or 0)
    except QuotaClaimModel.DoesNotExist:
        return 0


def is_full(tenant: TenantId, task_id: str) -> bool:
    """Whether every place is taken (the publisher then marks the entry closed in the manifest)."""
    try:
        counter = QuotaClaimModel.get(tenant.key, counter_key(task_id), consistent_read=True)
    except QuotaClaimModel.DoesNotExist:
        return False
    return int(counter.claimed or 0) >= int(counter.quota or 0)


def claim(
    tenant: TenantId,
    task_id: str,
    identity: str,
    *,
    now: int,
    end_time: int,
    task_model: type[Any] = UpgradeTaskModel,
    task_key: str | None = None,
) -> bool:
    """True if ``identity`` holds (or has just won) a place in the task's quota.

    ``task_model``/``task_key``: where the task item lives (H5 tasks: ``H5TaskModel``, ``task#<id>``);
    it must have ``state`` and ``end_time`` attributes. Task IDs come from one per-tenant sequence, so
    counters of different products never collide."""
    key = claim_key(task_id, identity)
    try:
        QuotaClaimModel.get(tenant.key, key, consistent_read=True)
        return True  # already theirs: a winner keeps getting it
    except QuotaClaimModel.DoesNotExist:
        pass
    for attempt in range(_RETRIES):
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.condition_check(
                    task_model,
                    tenant.key,
                    task_key or task_id,
                    condition=(task_model.state == TaskState.RUNNING.value)  # not paused or ended
                    & (task_model.end_time > now),  # the window is still open
                )
                tx.save(
                    QuotaClaimModel(
                        tenant=tenant.key, claim_key=key, claimed_at=now, expires_at=_expiry(end_time)
                    ),
                    condition=QuotaClaimModel.claim_key.does_not_exist(),  # each user counts once
                )
                tx.update(
                    QuotaClaimModel(tenant=tenant.key, claim_key=counter_key(task_id)),
                    actions=[QuotaClaimModel.claimed.add(1)],
                    condition=QuotaClaimModel.claimed < QuotaClaimModel.quota,  # never more than N
                )
        except TransactWriteError as exc:
            # Cancellation reasons come in the order PynamoDB sends: condition check, put, update.
            codes = [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]
            codes += [None] * (3 - len(codes))
            if codes[1] == "ConditionalCheckFailed":
                return True  # the same user, concurrently: their other request won the place
            if "ConditionalCheckFailed" in (codes[0], codes[2]):
                return False  # task no longer running, or the quota is full
            if _conflict(exc, codes) and attempt < _RETRIES - 1:
                time.sleep(random.uniform(0, 0.01 * 2**attempt))
                continue
            if _conflict(exc, codes):
                log(logging.WARNING, "quota claim gave up under contention", taskId=task_id)
                return False
            raise MdsError(f"storage error: {exc.cause_response_code or exc}") from exc
        return True
    return False


def _connection() -> Connection:
    """The claims table's cached connection (one botocore client, thread-safe): a claim is on the
    device path, so it must not pay for building a client."""
    return QuotaClaimModel._get_connection().connection


def _conflict(exc: TransactWriteError, codes: list[str | None]) -> bool:
    return exc.cause_response_code == "TransactionConflictException" or "TransactionConflict" in codes
