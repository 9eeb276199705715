"""Release tasks in DynamoDB (one partition per tenant; a tenant has hundreds, not millions)."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import Conflict
from chalicelib.domain.targeting import parse_target
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import GrayModel, ReleaseType, TaskState, UpgradeMode, UpgradeTask
from chalicelib.store import numbered, quota
from chalicelib.store.models import UpgradeTaskModel
from chalicelib.store.unit_of_work import UnitOfWork


def _from_model(m: UpgradeTaskModel) -> UpgradeTask:
    return UpgradeTask(
        id=m.task_id,
        package_id=m.package_id,
        release_type=ReleaseType(m.release_type),
        gray_model=GrayModel(m.gray_model) if m.gray_model else None,
        mode=UpgradeMode(int(m.mode)),
        target=parse_target(m.target),
        guide_memo=m.guide_memo or "",
        description=m.description or "",
        state=TaskState(m.state),
        created_at=m.created_at,
        created_by=m.created_by,
        updated_at=m.updated_at,
        end_time=int(m.end_time) if m.end_time is not None else None,
        users_count=int(m.users_count) if m.users_count is not None else None,
        need_net_type=m.need_net_type,
        silent_days=int(m.silent_days) if m.silent_days is not None else None,
        lock_version=m.version,
    )


def _to_model(tenant: TenantId, t: UpgradeTask) -> UpgradeTaskModel:
    model = UpgradeTaskModel(
        tenant=tenant.key,
        task_id=t.id,
        package_id=t.package_id,
        release_type=t.release_type.value,
        gray_model=t.gray_model.value if t.gray_model else None,
        mode=int(t.mode),
        target=t.target.to_json(),
        guide_memo=t.guide_memo,
        description=t.description,
        state=t.state.value,
        created_at=t.created_at,
        created_by=t.created_by,
        updated_at=t.updated_at,
        end_time=t.end_time,
        users_count=t.users_count,
        need_net_type=t.need_net_type,
        silent_days=t.silent_days,
    )
    if t.lock_version is not None:
        model.version = t.lock_version
    return model


def add(uow: UnitOfWork, tenant: TenantId, task: UpgradeTask) -> None:
    """The task, and for a time-window task its quota counter, in the same commit."""
    uow.save(
        _to_model(tenant, task),
        condition=UpgradeTaskModel.task_id.does_not_exist(),
        on_conflict=Conflict("task id collision; try again"),
    )
    if task.dynamic:
        quota.add_counter(uow, tenant, task)


def update(uow: UnitOfWork, tenant: TenantId, before: UpgradeTask, after: UpgradeTask) -> None:
    uow.save(_to_model(tenant, replace(after, lock_version=before.lock_version)))


def remove(uow: UnitOfWork, tenant: TenantId, task: UpgradeTask) -> None:
    uow.delete(_to_model(tenant, task), versioned=False)
    if task.dynamic:
        quota.remove_counter(uow, tenant, task)


def get(tenant: TenantId, task_id: str) -> UpgradeTask:
    return _from_model(numbered.get(UpgradeTaskModel, tenant, task_id, "task"))


def list_for_tenant(tenant: TenantId) -> list[UpgradeTask]:
    return [_from_model(m) for m in numbered.all_of(UpgradeTaskModel, tenant)]
