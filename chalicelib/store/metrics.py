"""Reach counters of device events, exact under duplicates and retries.

Each fact is counted by one transaction of two writes in one partition: put the fact's ``seen`` item
(only if absent) and add 1 to its counter. A repeat — the same event resent, an SQS redelivery, a
batch replayed out of order — fails the put's condition and changes nothing, so counts never drift.
A batch is tried as one transaction per chunk first (the usual case: nothing is a repeat); a
cancelled chunk is counted fact by fact, so the new facts in it still count once.

Writes of one release are spread over ``SHARDS`` partitions by device hash (a hot release would
otherwise hit DynamoDB's per-partition write limit); reading a release sums its shards.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from chalicelib.domain.errors import Conflict
from chalicelib.domain.events import FACT_TTL_DAYS, SHARDS, Count, Fact, Release, Stage
from chalicelib.domain.tenancy import TenantId
from chalicelib.store.models import MetricModel
from chalicelib.store.unit_of_work import UnitOfWork

_CHUNK = 25  # facts per transaction: 2 writes each, under DynamoDB's 100-item limit


def _pk(tenant: TenantId, release: Release, shard: int) -> str:
    """A shard of a release's counters: small (one item per stage, day, platform, version, detail),
    so reading the funnel costs the same at 100 devices as at 10 million."""
    return f"{tenant.key}#{release.ref}#{shard}"


def _seen_pk(tenant: TenantId, release: Release, shard: int) -> str:
    """The same shard's ``seen`` items (one per fact), kept apart from the counters it is read with."""
    return f"{_pk(tenant, release, shard)}#seen"


def _counter_key(fact: Fact) -> str:
    return f"n#{fact.stage.value}#{fact.day}#{fact.platform.value}#{fact.client_version}#{fact.detail}"


def _seen_key(fact: Fact) -> str:
    return f"seen#{fact.stage.value}#{fact.detail}#{fact.device_hash}"


def count_facts(tenant: TenantId, facts: Iterable[Fact], *, now: datetime | None = None) -> int:
    """Count every fact not counted before; returns how many were new."""
    now = now or datetime.now(UTC)
    unique = list({(_seen_pk(tenant, f.release, f.shard), _seen_key(f)): f for f in facts}.values())
    new = 0
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        if _commit(tenant, chunk, now):
            new += len(chunk)
            continue
        new += sum(_commit(tenant, [fact], now) for fact in chunk)
    return new


class _Repeat(Conflict):
    """A fact of the transaction was counted before."""


def _commit(tenant: TenantId, facts: list[Fact], now: datetime) -> bool:
    """One transaction for ``facts``; False if any of them was already counted (then none is)."""
    expires = now + timedelta(days=FACT_TTL_DAYS)
    uow = UnitOfWork()
    added: Counter[tuple[str, str]] = Counter()  # one item may appear once per transaction: sum first
    for fact in facts:
        pk = _pk(tenant, fact.release, fact.shard)
        seen_pk = _seen_pk(tenant, fact.release, fact.shard)
        seen = MetricModel(pk=seen_pk, sk=_seen_key(fact), expires_at=expires)
        uow.save(seen, condition=MetricModel.sk.does_not_exist(), on_conflict=_Repeat("already counted"))
        added[(pk, _counter_key(fact))] += 1
    for (pk, sk), n in added.items():
        uow.update(MetricModel(pk=pk, sk=sk), [MetricModel.devices.add(n)])
    try:
        uow.commit()
    except _Repeat:
        return False
    return True


def counts(tenant: TenantId, release: Release) -> Iterator[Count]:
    """Every counter of ``release``, shard by shard (the caller sums)."""
    for shard in range(SHARDS):
        for item in MetricModel.query(
            _pk(tenant, release, shard), MetricModel.sk.startswith("n#"), consistent_read=True
        ):
            _n, stage, day, platform, version, detail = item.sk.split("#", 5)
            yield Count(Stage(stage), day, platform, version, detail, int(item.devices or 0))


def delete_release(tenant: TenantId, release: Release) -> int:
    """Remove a release's counters and facts (its app or key was deleted). Returns items removed."""
    removed = 0
    with MetricModel.batch_write() as batch:
        for shard in range(SHARDS):
            for pk in (_pk(tenant, release, shard), _seen_pk(tenant, release, shard)):
                for item in MetricModel.query(pk):
                    batch.delete(item)
                    removed += 1
    return removed
