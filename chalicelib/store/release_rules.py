"""Release-rule resources, with a guard item per (type, platform, value) so duplicates are refused."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.release_rules import ReleaseRule
from chalicelib.domain.targeting import Platform, RuleType
from chalicelib.domain.tenancy import TenantId
from chalicelib.store import numbered
from chalicelib.store.models import ReleaseRuleModel
from chalicelib.store.unit_of_work import UnitOfWork

_GUARD = "value#"


def _from_model(m: ReleaseRuleModel) -> ReleaseRule:
    return ReleaseRule(
        id=m.rule_id,
        rule_type=RuleType(m.rule_type),
        platform=Platform(m.platform),
        name=m.name,
        value=m.value,
        created_at=m.created_at,
        created_by=m.created_by,
        updated_at=m.updated_at,
        version=m.version,
    )


def _to_model(tenant: TenantId, rule: ReleaseRule) -> ReleaseRuleModel:
    model = ReleaseRuleModel(
        tenant=tenant.key,
        rule_id=rule.id,
        rule_type=rule.rule_type.value,
        platform=rule.platform.value,
        name=rule.name,
        value=rule.value,
        created_at=rule.created_at,
        created_by=rule.created_by,
        updated_at=rule.updated_at,
    )
    if rule.version is not None:
        model.version = rule.version
    return model


def _guard(tenant: TenantId, rule: ReleaseRule) -> ReleaseRuleModel:
    return ReleaseRuleModel(
        tenant=tenant.key,
        rule_id=_GUARD + rule.identity,
        rule_type=rule.rule_type.value,
        platform=rule.platform.value,
        name=rule.id,
        value=rule.value,
        created_at=rule.created_at,
        created_by=rule.created_by,
        updated_at=rule.updated_at,
    )


def _claim(uow: UnitOfWork, tenant: TenantId, rule: ReleaseRule) -> None:
    uow.save(
        _guard(tenant, rule),
        condition=ReleaseRuleModel.rule_id.does_not_exist(),
        on_conflict=Conflict(
            f"a {rule.rule_type.value} rule for platform {rule.platform.value} "
            f"with value {rule.value!r} already exists"
        ),
    )


def _release(uow: UnitOfWork, tenant: TenantId, rule: ReleaseRule) -> None:
    uow.delete(ReleaseRuleModel(tenant=tenant.key, rule_id=_GUARD + rule.identity), versioned=False)


def add(uow: UnitOfWork, tenant: TenantId, rule: ReleaseRule) -> None:
    _claim(uow, tenant, rule)
    uow.save(_to_model(tenant, rule), condition=ReleaseRuleModel.rule_id.does_not_exist())


def update(uow: UnitOfWork, tenant: TenantId, before: ReleaseRule, after: ReleaseRule) -> None:
    if before.identity != after.identity:
        _release(uow, tenant, before)
        _claim(uow, tenant, after)
    uow.save(_to_model(tenant, replace(after, version=before.version)))


def remove(uow: UnitOfWork, tenant: TenantId, rule: ReleaseRule) -> None:
    _release(uow, tenant, rule)
    uow.delete(
        _to_model(tenant, rule),
        on_conflict=NotFound(f"release rule {rule.id} was changed or deleted meanwhile"),
    )


def get(tenant: TenantId, rule_id: str) -> ReleaseRule:
    return _from_model(numbered.get(ReleaseRuleModel, tenant, rule_id, "release rule"))


def list_for_tenant(tenant: TenantId) -> list[ReleaseRule]:
    return [_from_model(m) for m in numbered.all_of(ReleaseRuleModel, tenant)]
