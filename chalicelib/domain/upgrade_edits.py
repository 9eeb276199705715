"""Modifying an upgrade task that is already released (guide §4.3 "create and modify the task").

What a person may change: the prompt (``guideMemo``), the description, the mode and silent period,
the client versions, the advanced rules, the whitelists, the network types, and a time window's end
time and user count. The edited task is validated by the same rules as a new one (``new_task``).

What may not change, because devices and counters already rely on it: the release type and the gray
model (end the task and create another), and a time-window quota below what users already claimed.
An ended task is not modified at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace

from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.release_tasks import TaskState
from chalicelib.domain.upgrade import TaskInput, UpgradeMode, UpgradePackage, UpgradeTask, new_task

FIXED = {"release_type": "type", "gray_model": "grayModel"}  # TaskInput field -> wire name
_EDITABLE = {f.name for f in fields(TaskInput)}


def as_input(task: UpgradeTask) -> TaskInput:
    """The task as it would have been entered, so an edit can be validated like a new task."""
    target = task.target.to_json()
    return TaskInput(
        release_type=task.release_type.value,
        mode=int(task.mode),
        gray_model=task.gray_model.value if task.gray_model else None,
        whitelist_ids=list(target["whitelistIds"]),
        end_time=task.end_time,
        users_count=task.users_count,
        client_versions=list(target["clientVersions"]),
        rules=list(target["rules"]),
        guide_memo=task.guide_memo,
        description=task.description,
        need_net_type=task.need_net_type,
        silent_days=task.silent_days,
    )


def modify_task(
    task: UpgradeTask,
    package: UpgradePackage,
    changes: Mapping[str, object],
    *,
    claimed: int,
    now: int,
    at: str,
) -> UpgradeTask:
    """``task`` with ``changes`` (``TaskInput`` field names; a field absent keeps its value) applied.

    ``claimed``: how many users already hold a place in a time-window quota.

    Raises:
        Conflict: the task has ended.
        ValidationError: naming the field: ``type``/``grayModel`` (never change), ``usersCount``
            (below what is claimed), or any rule of ``new_task`` (``clientVersions[0]``, ``rules[1]``...).
    """
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a field of a task")
    if task.status(now) is TaskState.ENDED:
        raise Conflict(f"task {task.id} has ended; create a new task instead", field="taskId")
    current = as_input(task)
    for name, wire in FIXED.items():
        if name in changes and _differs(changes[name], getattr(current, name)):
            raise ValidationError(
                wire,
                f"cannot change on a released task (it is {getattr(current, name) or 'none'}); "
                "end this task and create a new one",
            )
    values = {f.name: getattr(current, f.name) for f in fields(TaskInput)}
    values.update({k: v for k, v in changes.items() if k not in FIXED})
    if "mode" in changes and "silent_days" not in changes and not _single(changes["mode"]):
        values["silent_days"] = None  # the silent period goes with the single-reminder mode
    edited = new_task(package, TaskInput(**values), task_id=task.id, live_tasks=0, now=now, at=at, by="")
    if edited.dynamic and edited.users_count is not None and edited.users_count < claimed:
        raise ValidationError(
            "usersCount", f"{claimed} users already claimed this time window; it cannot go below {claimed}"
        )
    return replace(
        edited,
        state=task.state,
        created_at=task.created_at,
        created_by=task.created_by,
        updated_at=at,
        lock_version=task.lock_version,
    )


def _differs(value: object, current: object) -> bool:
    def norm(v: object) -> str | None:
        return None if v in (None, "") else str(v).strip().lower()

    return norm(value) != norm(current)


def _single(mode: object) -> bool:
    try:
        return UpgradeMode.parse(mode) is UpgradeMode.SINGLE
    except ValidationError:
        return True  # let new_task name the bad mode
