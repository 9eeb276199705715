"""Release tasks of upgrade packages: create, list, show, modify, pause / continue / end.

Creating a task also rewrites its package (an optimistic-lock bump in the same transaction), so two
tasks created at once on one package cannot both slip under the 10-live-task limit, and a package
being deleted cannot gain a task. Whitelists named by a task must exist in the tenant, and a
whitelist cannot be deleted while a live task uses it (``using_whitelist``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import ValidationError, VersionConflict
from chalicelib.domain.release_tasks import iso_time
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import TaskInput, UpgradePackage, UpgradeTask, check_tester_limit, new_task
from chalicelib.domain.upgrade_edits import modify_task
from chalicelib.services import audit, publishing, release_rules, release_status, whitelists
from chalicelib.services.context import Call


def view(task: UpgradeTask, *, now: int, claimed: int | None = None) -> dict[str, Any]:
    target = task.target.to_json()
    data: dict[str, Any] = {
        "taskId": task.id,
        "packageId": task.package_id,
        "type": task.release_type.value,
        "grayModel": task.gray_model.value if task.gray_model else None,
        "mode": task.mode.name.lower(),
        "resultStatus": int(task.mode),
        "status": task.status(now).value,
        "whitelistIds": target["whitelistIds"],
        "clientVersions": target["clientVersions"],
        "rules": target["rules"],
        "guideMemo": task.guide_memo,
        "description": task.description,
        "needClientNetType": task.need_net_type,
        "silentPeriodDays": task.silent_days,
        "createdAt": task.created_at,
        "createdBy": task.created_by,
        "updatedAt": task.updated_at,
        "revision": task.lock_version,
    }
    if task.dynamic:
        data.update(endTime=iso_time(task.end_time), usersCount=task.users_count, claimed=claimed)
    return data


def create(call: Call, tenant: TenantId, package_id: str, data: TaskInput) -> dict[str, Any]:
    """The task, with ``warnings`` for rule values no release rule defines. Raises ValidationError
    naming the field, Conflict (no usable file; 10 live tasks), NotFound."""
    from chalicelib.store import sequences, upgrade_tasks
    from chalicelib.store import upgrade_packages as packages
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="upgrade.task.create")
    package = packages.get(tenant, package_id)
    now = call.epoch
    live = sum(
        1 for t in upgrade_tasks.list_for_tenant(tenant) if t.package_id == package_id and t.is_live(now)
    )
    task = new_task(package, data, task_id="0", live_tasks=live, now=now, at=call.at, by=call.actor)
    whitelists.check_exist(tenant, task.target.whitelist_ids)
    _check_testers(tenant, package, task)
    task = replace(task, id=str(sequences.next_id(tenant)))
    uow = UnitOfWork()
    upgrade_tasks.add(uow, tenant, task)
    packages.touch(uow, tenant, package, at=call.at)  # a concurrent create or delete conflicts (409)
    uow.audit(
        audit.entry(call, tenant, "upgrade.task.create", "upgrade_task", task.id, after=view(task, now=now))
    )
    uow.commit()
    publishing.changed(tenant, "upgrade", (package.platform,))
    answer = view(replace(task, lock_version=1), now=now, claimed=0 if task.dynamic else None)
    return {**answer, "warnings": release_rules.warnings_for(tenant, task.target)}


def _check_testers(tenant: TenantId, package: UpgradePackage, task: UpgradeTask) -> None:
    from chalicelib.domain.whitelists import WhitelistKind
    from chalicelib.store import whitelists as lists

    if task.target.whitelist_ids and package.tester_limit is not None:
        found = [lists.get(tenant, w) for w in task.target.whitelist_ids]
        check_tester_limit(package, [None if w.kind is WhitelistKind.REGEX else w.count for w in found])


def get(call: Call, tenant: TenantId, task_id: str) -> dict[str, Any]:
    from chalicelib.store import quota, upgrade_tasks

    audit.check(call, tenant, Permission.READ, action="upgrade.task.read")
    task = upgrade_tasks.get(tenant, task_id)
    return view(task, now=call.epoch, claimed=quota.claimed(tenant, task.id) if task.dynamic else None)


def list_all(
    call: Call, tenant: TenantId, *, package_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    from chalicelib.store import upgrade_tasks

    audit.check(call, tenant, Permission.READ, action="upgrade.task.list")
    if status is not None and status not in ("running", "paused", "ended", "live"):
        raise ValidationError("status", "must be one of: running, paused, ended, live")
    now = call.epoch
    tasks = [t for t in upgrade_tasks.list_for_tenant(tenant) if package_id in (None, t.package_id)]
    if status == "live":
        tasks = [t for t in tasks if t.is_live(now)]
    elif status is not None:
        tasks = [t for t in tasks if t.status(now).value == status]
    return [view(t, now=now) for t in reversed(tasks)]  # newest first


def modify(
    call: Call,
    tenant: TenantId,
    task_id: str,
    changes: dict[str, Any],
    *,
    expected_revision: int | None = None,
) -> dict[str, Any]:
    """Edit a released task (``TaskInput`` field names; see ``domain.upgrade_edits``), republished and
    audited. Raises ValidationError naming the field, Conflict (ended task, quota claimed since it was
    read), VersionConflict for a stale ``expected_revision``, NotFound."""
    from chalicelib.store import quota, upgrade_tasks
    from chalicelib.store import upgrade_packages as packages
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="upgrade.task.update")
    before = upgrade_tasks.get(tenant, task_id)
    if expected_revision is not None and expected_revision != before.lock_version:
        raise VersionConflict(f"task {task_id} is at revision {before.lock_version}, not {expected_revision}")
    package = packages.get(tenant, before.package_id)
    now = call.epoch
    claimed = quota.claimed(tenant, task_id) if before.dynamic else 0
    after = modify_task(before, package, changes, claimed=claimed, now=now, at=call.at)
    whitelists.check_exist(tenant, after.target.whitelist_ids)
    _check_testers(tenant, package, after)
    uow = UnitOfWork()
    upgrade_tasks.update(uow, tenant, before, after)
    if after.dynamic and (after.users_count, after.end_time) != (before.users_count, before.end_time):
        quota.resize_counter(uow, tenant, after)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "upgrade.task.update",
            "upgrade_task",
            task_id,
            before=view(before, now=now),
            after=view(after, now=now),
        )
    )
    uow.commit()
    publishing.changed(tenant, "upgrade", (package.platform,))
    revision = (before.lock_version or 0) + 1
    answer = view(replace(after, lock_version=revision), now=now, claimed=claimed if after.dynamic else None)
    return {**answer, "warnings": release_rules.warnings_for(tenant, after.target)}


def change_status(
    call: Call, tenant: TenantId, task_id: str, *, action: str, expected_revision: int | None = None
) -> dict[str, Any]:
    """``pause``, ``resume`` (alias ``continue``) or ``end``. Raises Conflict for an illegal move
    (e.g. continuing an ended task) and VersionConflict for a stale ``expected_revision``."""
    from chalicelib.store import quota, upgrade_tasks
    from chalicelib.store import upgrade_packages as packages

    before, after, _ = release_status.change(
        call,
        tenant,
        task_id,
        action,
        expected_revision=expected_revision,
        audit_prefix="upgrade.task",
        entity="upgrade_task",
        noun="task",
        get=upgrade_tasks.get,
        update=upgrade_tasks.update,
    )
    now = call.epoch
    platform = packages.get(tenant, before.package_id).platform
    publishing.changed(tenant, "upgrade", (platform,))
    claimed = quota.claimed(tenant, task_id) if after.dynamic else None
    return view(replace(after, lock_version=(before.lock_version or 0) + 1), now=now, claimed=claimed)


def using_whitelist(tenant: TenantId, whitelist_id: str) -> list[str]:
    """Live upgrade tasks that target ``whitelist_id`` (a whitelist in use cannot be deleted)."""
    from chalicelib.store import upgrade_tasks

    now = int(datetime.now(UTC).timestamp())
    return [
        f"upgrade task {t.id} (package {t.package_id})"
        for t in upgrade_tasks.list_for_tenant(tenant)
        if whitelist_id in t.target.whitelist_ids and t.is_live(now)
    ]
