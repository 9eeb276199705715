"""Version upgrades as delivery candidates: the interface the manifests and the dynamic check API use.

- ``candidates(tenant, platform, now=)``: every live task of the platform, **in priority order**
  (``domain.upgrade.priority_key``), as ``domain.delivery.Candidate``s; ``decide`` picks the first match.
- ``claim(tenant, candidate, device, now=)``: the atomic time-window quota claim for a dynamic candidate.
- ``is_full(tenant, candidate)``: every place of its time window is taken (it is published ``closed``).
- ``answer(chosen, device)``: the mPaaS client answer for ``{subject: candidate}`` from ``decide_each``
  (``resultStatus`` 201 when nothing applies).
"""

from __future__ import annotations

from chalicelib.domain.delivery import Candidate, place_request
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import answer_payload, in_priority_order
from chalicelib.services import downloads

PREFIX = "upgrade-task-"


def candidates(tenant: TenantId, platform: Platform, *, now: int) -> list[Candidate]:
    """Every live (running, not paused, not ended, not past its end time) task for ``platform``, in
    priority order. ``Candidate.id`` is ``upgrade-task-<taskId>``; time-window tasks are ``dynamic``
    with ``not_after`` = their end time (epoch seconds). A TestFlight package's tasks end with its link
    (``not_after`` = the link's expiry, if earlier); an expired link is not offered at all. A full
    time window is ``closed``: only the devices that hold a place get it."""
    from chalicelib.store import quota, upgrade_packages, upgrade_tasks

    packages = {
        p.id: p for p in upgrade_packages.list_for_tenant(tenant) if p.platform is platform and p.offered(now)
    }
    live = [
        (task, packages[task.package_id])
        for task in upgrade_tasks.list_for_tenant(tenant)
        if task.package_id in packages and task.is_running(now)
    ]
    return [
        Candidate(
            id=f"{PREFIX}{task.id}",
            target=task.target.compile(),
            payload=answer_payload(task, package, downloads.in_app_link(tenant, package)),
            dynamic=task.dynamic,
            not_after=_earliest(task.end_time, package.link_expires_at),
            closed=task.dynamic and quota.is_full(tenant, task.id),
        )
        for task, package in in_priority_order(live)
    ]


def _earliest(*moments: int | None) -> int | None:
    given = [m for m in moments if m is not None]
    return min(given) if given else None


def claim(tenant: TenantId, candidate: Candidate, device: Device, *, now: int) -> bool:
    """Whether ``device`` gets ``candidate``'s time-window quota (``domain.delivery.place_request``): a
    place already won (idempotent), or one won now in a single DynamoDB transaction (never more than N
    distinct users; see store.quota)."""
    from chalicelib.store import quota

    wanted = place_request(candidate, device, now=now, prefix=PREFIX)
    if isinstance(wanted, bool):
        return wanted
    return quota.claim(tenant, wanted.task_id, wanted.identity, now=now, end_time=wanted.end_time)


def is_full(tenant: TenantId, candidate: Candidate) -> bool:
    from chalicelib.store import quota

    return candidate.dynamic and quota.is_full(tenant, candidate.id[len(PREFIX) :])
