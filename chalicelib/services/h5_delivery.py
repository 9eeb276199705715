"""H5 offline packages as delivery candidates (product ``h5``): one decision per H5 app.

- ``candidates(tenant, platform, now=)``: every running task of a ready resource made for ``platform``,
  with ``subject`` = the H5 ID, in priority order (``domain.h5.priority_key``: higher version, then
  official > whitelist gray > time-window gray, then the most recent). The target is the resource's
  client range for that platform plus the task's rules and whitelists.
- ``claim``: the time-window quota (store/quota.py), as for upgrades; ``is_full``: every place taken.
- ``answer({h5Id: candidate}, device)``: ``{"packages": [...]}``, one entry per H5 app, by H5 ID.
"""

from __future__ import annotations

from chalicelib.domain.delivery import Candidate, place_request
from chalicelib.domain.h5 import ResourceStatus, device_target, in_priority_order, payload
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId

PREFIX = "h5-task-"


def candidates(tenant: TenantId, platform: Platform, *, now: int) -> list[Candidate]:
    from chalicelib.store import h5_files, quota
    from chalicelib.store import h5_records as store

    resources = {
        r.id: r
        for r in store.list_resources(tenant)
        if r.status is ResourceStatus.READY and r.files is not None and platform in r.client_ranges
    }
    running = [t for t in store.list_tasks(tenant) if t.resource_id in resources and t.is_running(now)]
    found = []
    for task in in_priority_order(running):
        resource = resources[task.resource_id]
        target = device_target(task, resource, platform)
        files = resource.files
        if target is None or files is None:
            continue
        found.append(
            Candidate(
                id=f"{PREFIX}{task.id}",
                target=target.compile(),
                payload=payload(
                    resource,
                    task,
                    amr_url=h5_files.cdn_url(files.cdn_amr),
                    h5json_url=h5_files.cdn_url(files.cdn_h5json),
                    diff_url=h5_files.cdn_url(resource.diff["cdnKey"]) if resource.diff else None,
                ),
                dynamic=task.dynamic,
                not_after=task.end_time,
                subject=resource.h5_id,
                closed=task.dynamic and quota.is_full(tenant, task.id),  # full: only holders get it
            )
        )
    return found


def claim(tenant: TenantId, candidate: Candidate, device: Device, *, now: int) -> bool:
    """A time-window place for the device's identity (``domain.delivery.place_request``); idempotent."""
    from chalicelib.store import h5_records as store

    wanted = place_request(candidate, device, now=now, prefix=PREFIX)
    if isinstance(wanted, bool):
        return wanted
    return store.claim_quota(tenant, wanted.task_id, wanted.identity, now=now, end_time=wanted.end_time)


def is_full(tenant: TenantId, candidate: Candidate) -> bool:
    from chalicelib.store import quota

    return candidate.dynamic and quota.is_full(tenant, candidate.id[len(PREFIX) :])
