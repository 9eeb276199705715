"""Rollout plans: one item per (tenant, release), optimistic locking by PynamoDB version."""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.domain.events import Release
from chalicelib.domain.rollouts import RolloutPlan
from chalicelib.domain.tenancy import TenantId
from chalicelib.store.models import RolloutPlanModel
from chalicelib.store.unit_of_work import UnitOfWork

_PREFIX = "rollout#"


def _key(tenant: TenantId, release: Release) -> str:
    return f"{_PREFIX}{tenant.key}#{release.ref}"


def get(tenant: TenantId, release: Release) -> tuple[RolloutPlan, RolloutPlanModel] | None:
    try:
        item = RolloutPlanModel.get(_key(tenant, release), consistent_read=True)
    except RolloutPlanModel.DoesNotExist:
        return None
    return RolloutPlan.from_json(item.plan), item


def save(uow: UnitOfWork, tenant: TenantId, plan: RolloutPlan, *, read: RolloutPlanModel | None) -> None:
    """Stage ``plan``; ``read`` is the item it replaces (None: a new plan), checked by its version."""
    item = RolloutPlanModel(_key(tenant, plan.release), plan=plan.to_json())
    if read is None:
        uow.save(item, condition=RolloutPlanModel.tenant.does_not_exist())
    else:
        item.version = read.version
        uow.save(item)


def delete(uow: UnitOfWork, tenant: TenantId, read: RolloutPlanModel) -> None:
    uow.delete(read)


def for_tenant(tenant: TenantId) -> dict[str, RolloutPlan]:
    """The tenant's plans by release reference (what the publisher narrows candidates with)."""
    prefix = f"{_PREFIX}{tenant.key}#"
    return {
        item.tenant[len(prefix) :]: RolloutPlan.from_json(item.plan)
        for item in RolloutPlanModel.scan(RolloutPlanModel.tenant.startswith(prefix))
    }


def all_plans() -> Iterator[tuple[TenantId, RolloutPlan]]:
    for item in RolloutPlanModel.scan(RolloutPlanModel.tenant.startswith(_PREFIX)):
        app_id, workspace_id = item.tenant[len(_PREFIX) :].split("#", 2)[:2]
        yield TenantId(app_id, workspace_id), RolloutPlan.from_json(item.plan)
