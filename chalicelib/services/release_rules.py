"""Release-rule resources: create, modify, delete, batch delete (all or nothing), list; the warnings
of rule values they do not define."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.domain import release_rules as domain
from chalicelib.domain.access import Permission
from chalicelib.domain.errors import ValidationError, VersionConflict
from chalicelib.domain.targeting import Platform, RuleType, Target
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit
from chalicelib.services.context import Call


def create(
    call: Call, tenant: TenantId, *, rule_type: str, platform: str, name: str, value: str
) -> dict[str, Any]:
    from chalicelib.store import release_rules as store
    from chalicelib.store import sequences
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="release_rule.create")
    rule = domain.build(
        rule_id="0", rule_type=rule_type, platform=platform, name=name, value=value, at=call.at, by=call.actor
    )
    rule = replace(rule, id=str(sequences.next_id(tenant)))
    uow = UnitOfWork()
    store.add(uow, tenant, rule)
    uow.audit(audit.entry(call, tenant, "release_rule.create", "release_rule", rule.id, after=rule.view()))
    uow.commit()
    return {**rule.view(), "version": 1}


def get(call: Call, tenant: TenantId, rule_id: str) -> dict[str, Any]:
    from chalicelib.store import release_rules as store

    audit.check(call, tenant, Permission.READ, action="release_rule.read")
    return store.get(tenant, rule_id).view()


def list_rules(
    call: Call, tenant: TenantId, *, rule_type: str | None = None, platform: str | None = None
) -> list[dict]:
    from chalicelib.store import release_rules as store

    audit.check(call, tenant, Permission.READ, action="release_rule.list")
    wanted_type = RuleType.parse(rule_type, "type") if rule_type else None
    wanted_platform = Platform.parse(platform, "platform") if platform else None
    return [
        r.view()
        for r in store.list_for_tenant(tenant)
        if (wanted_type is None or r.rule_type is wanted_type)
        and (wanted_platform is None or r.platform is wanted_platform)
    ]


def update(
    call: Call,
    tenant: TenantId,
    rule_id: str,
    *,
    changes: dict[str, Any],
    expected_version: int | None = None,
) -> dict[str, Any]:
    """``changes`` holds any of type, platform, name, value; the value is re-validated against the type."""
    from chalicelib.store import release_rules as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="release_rule.update")
    before = store.get(tenant, rule_id)
    if expected_version is not None and expected_version != before.version:
        raise VersionConflict(
            f"release rule {rule_id} is at version {before.version}, not {expected_version}"
        )
    merged = {
        "rule_type": before.rule_type,
        "platform": before.platform,
        "name": before.name,
        "value": before.value,
    }
    merged.update({k: v for k, v in changes.items() if v is not None})
    rebuilt = domain.build(rule_id=rule_id, at=call.at, by=before.created_by, **merged)
    after = replace(rebuilt, created_at=before.created_at, version=before.version)
    uow = UnitOfWork()
    store.update(uow, tenant, before, after)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "release_rule.update",
            "release_rule",
            rule_id,
            before=before.view(),
            after=after.view(),
        )
    )
    uow.commit()
    return {**after.view(), "version": (before.version or 0) + 1}


def delete(call: Call, tenant: TenantId, rule_ids: list[str]) -> dict[str, Any]:
    """Delete one or more rules in one transaction: if any is missing, none is deleted."""
    from chalicelib.store import release_rules as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="release_rule.delete")
    if not rule_ids:
        raise ValidationError("ruleIds", "must name at least one rule")
    if len(rule_ids) > domain.MAX_BATCH:
        raise ValidationError("ruleIds", f"at most {domain.MAX_BATCH} rules per batch")
    unique = list(dict.fromkeys(rule_ids))
    rules = [store.get(tenant, rule_id) for rule_id in unique]
    uow = UnitOfWork()
    for rule in rules:
        store.remove(uow, tenant, rule)
        uow.audit(
            audit.entry(call, tenant, "release_rule.delete", "release_rule", rule.id, before=rule.view())
        )
    uow.commit()
    return {"deleted": unique}


def warnings_for(tenant: TenantId, target: Target) -> list[dict[str, str]]:
    """What an answer that saved ``target`` warns about: rule values no release rule defines."""
    from chalicelib.store import release_rules as store

    return domain.undefined_values(target.rules, store.list_for_tenant(tenant), platform=target.platform)
