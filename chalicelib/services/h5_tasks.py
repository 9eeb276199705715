"""Release tasks of H5 resources: create, list, show, pause / resume / end.

Creating a task rewrites its resource (an optimistic-lock bump in the same transaction), so two tasks
created at once cannot both slip under the live-task limit and a resource being deleted cannot gain a
task. The version's files are (re)placed on the CDN when a task is created; when the last live task of
a version ends, its files are deleted from the CDN (an ended version can no longer be downloaded) while
the private copies stay for export and a later re-release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import ValidationError, VersionConflict, present
from chalicelib.domain.h5 import H5Resource, H5Task, new_task
from chalicelib.domain.release_tasks import TaskState, iso_time
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import (
    audit,
    h5_online,
    h5_resources,
    publishing,
    release_rules,
    release_status,
    whitelists,
)
from chalicelib.services.context import Call


def view(task: H5Task, *, now: int, claimed: int | None = None) -> dict[str, Any]:
    target = task.target.to_json()
    data: dict[str, Any] = {
        "taskId": task.id,
        "resourceId": task.resource_id,
        "h5Id": task.h5_id,
        "version": task.version.text,
        "type": task.release_type.value,
        "grayModel": task.gray_model.value if task.gray_model else None,
        "status": task.status(now).value,
        "whitelistIds": target["whitelistIds"],
        "rules": target["rules"],
        "endTime": iso_time(task.end_time),
        "usersCount": task.users_count,
        "memo": task.memo,
        "name": task.name,
        "createdAt": task.created_at,
        "createdBy": task.created_by,
        "updatedAt": task.updated_at,
        "revision": task.lock_version,
    }
    if task.dynamic:
        data["claimed"] = claimed
    return data


def _platforms(resource: H5Resource) -> tuple[Any, ...]:
    return resource.platforms


def create_task(call: Call, tenant: TenantId, resource_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The task, with ``warnings`` for rule values no release rule defines. Raises ValidationError
    naming the field, Conflict (resource not ready; 10 live tasks), NotFound."""
    from chalicelib.store import h5_files, sequences
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="h5.task.create")
    if not isinstance(data, Mapping):
        raise ValidationError("body", "must be an object")
    resource = store.get_resource(tenant, resource_id)
    now = call.epoch
    live = sum(1 for t in store.list_tasks(tenant) if t.resource_id == resource.id and t.is_live(now))
    task = new_task(resource, data, task_id="0", live_tasks=live, now=now, at=call.at, by=call.actor)
    whitelists.check_exist(tenant, task.target.whitelist_ids)
    task = replace(task, id=str(sequences.next_id(tenant)))
    files = present(resource.files, "the files of a ready resource")  # new_task refuses the others
    h5_files.publish(files)  # idempotent; brings back the files of a version that had ended
    h5_online.publish(tenant, resource)  # a global package's files at its fallbackBaseUrl
    if resource.diff:
        h5_files.publish_diff(resource.diff["amrKey"], resource.diff["cdnKey"])
    updated = h5_resources.with_diff(tenant, resource)
    new_diff = updated.diff if updated.diff is not resource.diff else None
    uow = UnitOfWork()
    store.add_task(uow, tenant, task)
    store.update_resource(uow, tenant, resource, replace(updated, on_cdn=True, updated_at=call.at))
    uow.audit(audit.entry(call, tenant, "h5.task.create", "h5_task", task.id, after=view(task, now=now)))
    try:
        uow.commit()
    except BaseException:
        if new_diff:
            h5_files.discard_diff(new_diff)
        raise
    publishing.changed(tenant, "h5", _platforms(resource))
    answer = view(replace(task, lock_version=1), now=now, claimed=0 if task.dynamic else None)
    return {**answer, "warnings": release_rules.warnings_for(tenant, task.target)}


def list_tasks(call: Call, tenant: TenantId, *, resource_id: str) -> list[dict[str, Any]]:
    """The tasks of one resource, newest first."""
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.task.list")
    store.get_resource(tenant, resource_id)
    now = call.epoch
    tasks = [t for t in store.list_tasks(tenant) if t.resource_id == str(resource_id)]
    return [view(t, now=now) for t in reversed(tasks)]


def get_task(call: Call, tenant: TenantId, task_id: str) -> dict[str, Any]:
    from chalicelib.store import h5_records as store
    from chalicelib.store import quota

    audit.check(call, tenant, Permission.READ, action="h5.task.read")
    task = store.get_task(tenant, task_id)
    return view(task, now=call.epoch, claimed=quota.claimed(tenant, task.id) if task.dynamic else None)


def change_status(
    call: Call, tenant: TenantId, task_id: str, action: str, *, expected_revision: int | None = None
) -> dict[str, Any]:
    """``pause``, ``resume`` (alias ``continue``) or ``end``. Raises Conflict for an illegal move (e.g.
    resuming an ended task) and VersionConflict for a stale ``expected_revision``."""
    from chalicelib.store import h5_records as store
    from chalicelib.store import quota

    before, after, move = release_status.change(
        call,
        tenant,
        task_id,
        action,
        expected_revision=expected_revision,
        audit_prefix="h5.task",
        entity="h5_task",
        noun="task",
        get=store.get_task,
        update=store.update_task,
    )
    now = call.epoch
    resource = store.get_resource(tenant, before.resource_id)
    publishing.changed(tenant, "h5", _platforms(resource))
    if move == "end":
        _take_down_if_ended(tenant, resource.id, now=now)
    claimed = quota.claimed(tenant, task_id) if after.dynamic else None
    return view(replace(after, lock_version=(before.lock_version or 0) + 1), now=now, claimed=claimed)


def _take_down_if_ended(tenant: TenantId, resource_id: str, *, now: int) -> bool:
    """Delete a version's CDN copies once it has tasks and none of them is live (ended, or past its end
    time): it can no longer be downloaded. Called after the manifests were re-published."""
    from chalicelib.store import h5_files
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork

    resource = store.get_resource(tenant, resource_id)
    tasks = [t for t in store.list_tasks(tenant) if t.resource_id == resource.id]
    if not resource.on_cdn or resource.files is None or not tasks or any(t.is_live(now) for t in tasks):
        return False
    h5_files.unpublish(resource.files, resource.diff)
    uow = UnitOfWork()
    store.update_resource(uow, tenant, resource, replace(resource, on_cdn=False))
    try:
        uow.commit()
    except VersionConflict:
        pass  # changed meanwhile (e.g. a new task put the files back); the next sweep looks again
    return True


def sweep(*, now: int | None = None) -> int:
    """Every minute (after the reconciler): take down the files of versions whose last task ran out of
    time without being ended. Returns how many versions were taken down."""
    from chalicelib.store import delivery
    from chalicelib.store import h5_records as store

    now = int(datetime.now(UTC).timestamp()) if now is None else now
    tenants = {
        tenant for tenant, _platform in delivery.published_platforms()
    }  # every product is in the index
    taken = 0
    for tenant in sorted(tenants, key=lambda t: t.key):
        for task in store.list_tasks(tenant):
            if task.end_time is not None and task.end_time <= now and task.state is not TaskState.ENDED:
                taken += _take_down_if_ended(tenant, task.resource_id, now=now)
    return taken


def using_whitelist(tenant: TenantId, whitelist_id: str) -> list[str]:
    """Live H5 tasks that target ``whitelist_id`` (a whitelist in use cannot be deleted)."""
    from chalicelib.store import h5_records as store

    now = int(datetime.now(UTC).timestamp())
    return [
        f"H5 task {t.id} ({t.h5_id} {t.version})"
        for t in store.list_tasks(tenant)
        if whitelist_id in t.target.whitelist_ids and t.is_live(now)
    ]
