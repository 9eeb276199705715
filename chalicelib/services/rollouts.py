"""Progressive rollouts for every product: set a plan on a release, let the scheduler ramp it, and let
device events stop it (``domain.rollouts``; docs/events.md "Rollouts").

- ``set_plan`` / ``get_plan`` / ``remove_plan``: the console and API (release managers).
- ``resume``: go on with a paused plan (and its release); ``rollback``: end the release, so devices go
  back to what they had before it, and mark the plan rolled back.
- ``services.products`` applies each plan's current step to its product's candidates.
- ``advance``: the scheduler, every minute: steps whose bake time has passed move on.
- ``guard``: after device events are counted, a tripped guardrail pauses the release (through the
  product's own status change, so it is audited and republished like a manual pause) and the plan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib.domain.access import Permission, Principal, PrincipalKind, Role
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.events import Release
from chalicelib.domain.release_tasks import TaskState
from chalicelib.domain.rollouts import PlanState, RolloutPlan, parse_plan
from chalicelib.domain.tenancy import TenantId
from chalicelib.logs import log
from chalicelib.services import audit
from chalicelib.services.context import SYSTEM, Call

GUARDRAIL_ACTOR = "system:guardrail"
SCHEDULER_ACTOR = "system:rollout"


def _change_release(product: str) -> Callable[[Call, TenantId, str, str], Any]:
    """The product's own status move (audited, republished): ``(call, tenant, release id, action)``."""
    if product == "upgrade":
        from chalicelib.services import upgrade_tasks

        return lambda call, tenant, rid, action: upgrade_tasks.change_status(call, tenant, rid, action=action)
    if product == "h5":
        from chalicelib.services import h5_tasks

        return lambda call, tenant, rid, action: h5_tasks.change_status(call, tenant, rid, action)
    from chalicelib.services import hotpatch_releases

    return lambda call, tenant, rid, action: hotpatch_releases.change_status(call, tenant, rid, action=action)


def _release_state(tenant: TenantId, release: Release, now: int) -> TaskState:
    """The release's state (running / paused / ended). Raises NotFound unless it exists in this tenant."""
    if release.product == "upgrade":
        from chalicelib.store import upgrade_tasks

        return upgrade_tasks.get(tenant, release.id).status(now)
    if release.product == "h5":
        from chalicelib.store import h5_records

        return h5_records.get_task(tenant, release.id).status(now)
    from chalicelib.store import hotpatch

    return hotpatch.get_release(tenant, release.id).state


def set_plan(call: Call, tenant: TenantId, release_ref: str, data: dict[str, Any]) -> dict[str, Any]:
    """Start (or replace) the plan of a release at its first step. Raises ValidationError, NotFound."""
    from chalicelib.store import rollouts as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="rollout.set")
    release = Release.parse(release_ref)
    plan = parse_plan(release, data, now=call.epoch)
    _release_state(tenant, release, call.epoch)  # it exists
    found = store.get(tenant, release)
    uow = UnitOfWork()
    store.save(uow, tenant, plan, read=found[1] if found else None)
    uow.audit(audit.entry(call, tenant, "rollout.set", "rollout", release.ref,
                          before=found[0].to_json() if found else None, after=plan.to_json()))  # fmt: skip
    uow.commit()
    _republish(tenant, release)
    return plan.to_json()


def get_plan(call: Call, tenant: TenantId, release_ref: str) -> dict[str, Any]:
    audit.check(call, tenant, Permission.READ, action="rollout.read")
    return _plan(tenant, Release.parse(release_ref)).to_json()


def remove_plan(call: Call, tenant: TenantId, release_ref: str) -> None:
    """Drop the plan: the release goes back to every device its targeting allows."""
    from chalicelib.store import rollouts as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="rollout.remove")
    release = Release.parse(release_ref)
    found = store.get(tenant, release)
    if found is None:
        raise NotFound(f"{release.ref} has no rollout plan")
    uow = UnitOfWork()
    store.delete(uow, tenant, found[1])
    uow.audit(audit.entry(call, tenant, "rollout.remove", "rollout", release.ref, before=found[0].to_json()))
    uow.commit()
    _republish(tenant, release)


def resume(call: Call, tenant: TenantId, release_ref: str) -> dict[str, Any]:
    """Go on with a paused plan at its current step, resuming the release if it is paused too.
    Raises NotFound, Conflict (the plan is not paused, or the release has ended)."""
    audit.check(call, tenant, Permission.RELEASE, action="rollout.resume")
    release = Release.parse(release_ref)
    plan = _plan(tenant, release)
    plan.resumed(call.epoch)  # refuses a plan that is not paused, before the release is touched
    state = _release_state(tenant, release, call.epoch)
    if state is TaskState.ENDED:
        raise Conflict(f"{release.ref} has ended; start a new release instead", field="release")
    if state is TaskState.PAUSED:
        _change_release(release.product)(call, tenant, release.id, "resume")
    _update(tenant, release, lambda p: p.resumed(call.epoch) if p.state is PlanState.PAUSED else None, call)
    return _plan(tenant, release).to_json()


def rollback(call: Call, tenant: TenantId, release_ref: str) -> dict[str, Any]:
    """End the release and mark its plan rolled back: every device is back to what it had before the
    release (the previous release, or nothing). Raises NotFound, Conflict (nothing to roll back)."""
    audit.check(call, tenant, Permission.RELEASE, action="rollout.rollback")
    release = Release.parse(release_ref)
    why = f"rolled back by {call.actor}"
    _plan(tenant, release).rolled_back(why)  # refuses a plan that is done or rolled back already
    if _release_state(tenant, release, call.epoch) is not TaskState.ENDED:
        _change_release(release.product)(call, tenant, release.id, "end")
    _update(tenant, release, lambda p: p.rolled_back(why) if p.state in _LIVE else None, call, detail=why)
    return _plan(tenant, release).to_json()


_LIVE = (PlanState.RUNNING, PlanState.PAUSED)


def _plan(tenant: TenantId, release: Release) -> RolloutPlan:
    from chalicelib.store import rollouts as store

    found = store.get(tenant, release)
    if found is None:
        raise NotFound(f"{release.ref} has no rollout plan")
    return found[0]


def advance(*, now: int | None = None) -> int:
    """Move every running plan whose step has baked to its next step. Returns how many moved."""
    from chalicelib.store import rollouts as store

    now = int(time.time()) if now is None else now
    moved = 0
    for tenant, plan in list(store.all_plans()):
        nxt = plan.advanced(now)
        if nxt is not None and _update(tenant, plan.release, lambda p: p.advanced(now), SCHEDULER_ACTOR):
            moved += 1
    return moved


def guard(tenant: TenantId, release: Release) -> bool:
    """Pause the release and its plan if the plan's guardrail has tripped. True if this call paused it."""
    from chalicelib.domain.events import reach
    from chalicelib.store import metrics
    from chalicelib.store import rollouts as store

    found = store.get(tenant, release)
    if found is None or found[0].guardrail is None or found[0].state is not PlanState.RUNNING:
        return False
    funnel = reach(release, metrics.counts(tenant, release)).get("funnel", {})
    why = found[0].guardrail.tripped(funnel)
    if why is None:
        return False
    # the release first, so that a plan that says "paused" always has a paused release: the guardrail
    # pauses with a release manager's rights in this workspace only, as "system:guardrail"
    guardrail = Principal(PrincipalKind.SYSTEM, "guardrail", roles={tenant: Role.RELEASE_MANAGER})
    call = Call(principal=guardrail, request_id=f"guardrail-{release.ref}")
    try:
        _change_release(release.product)(call, tenant, release.id, "pause")
    except Conflict as exc:  # already paused (by hand, or by a guard running beside this one) or ended
        log(logging.INFO, "guardrail: the release was not running", release=release.ref, error=str(exc))
    return _update(tenant, release, lambda p: p.paused(why) if p.state is PlanState.RUNNING else None,
                   GUARDRAIL_ACTOR, detail=why)  # fmt: skip


def _update(
    tenant: TenantId,
    release: Release,
    change: Callable[[RolloutPlan], RolloutPlan | None],
    by: str | Call,
    *,
    detail: str | None = None,
) -> bool:
    """Apply ``change`` to the stored plan under its version, audited as ``by`` (a system actor's name,
    or the caller); republish. False when there is nothing to change (or the plan is gone)."""
    from chalicelib.domain.errors import VersionConflict
    from chalicelib.store import rollouts as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    def attempt() -> bool:
        found = store.get(tenant, release)
        after = change(found[0]) if found is not None else None
        if found is None or after is None:
            return False
        uow = UnitOfWork()
        store.save(uow, tenant, after, read=found[1])
        call = by if isinstance(by, Call) else Call(
            principal=SYSTEM, request_id=f"rollout-{release.ref}-{after.step}-{after.state.value}"
        )
        entry = audit.entry(call, tenant, f"rollout.{after.state.value}", "rollout", release.ref,
                            before=found[0].to_json(), after=after.to_json(), detail=detail)  # fmt: skip
        uow.audit(entry if isinstance(by, Call) else replace(entry, actor=by))
        uow.commit()
        return True

    try:
        changed = retry_on_conflict(attempt)
    except VersionConflict:
        return False
    if changed:
        _republish(tenant, release)
    return changed


def _republish(tenant: TenantId, release: Release) -> None:
    from chalicelib.services import publishing

    publishing.changed(tenant, release.product)
