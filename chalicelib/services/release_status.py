"""The one status move of a release task (upgrade and H5 tasks, hotpatch releases): pause, resume
(alias continue) or end, committed with its audit entry; the products add what follows (publishing,
taking files down) and their own view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import VersionConflict
from chalicelib.domain.release_tasks import ACTIONS, parse_action
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit
from chalicelib.services.context import Call


def change(
    call: Call,
    tenant: TenantId,
    item_id: str,
    action: str,
    *,
    expected_revision: int | None,
    audit_prefix: str,
    entity: str,
    noun: str,
    get: Callable[[TenantId, str], Any],
    update: Callable[[Any, TenantId, Any, Any], None],
    timed: bool = True,
) -> tuple[Any, Any, str]:
    """Check the permission (audit action ``{audit_prefix}.{move}``), apply the move and commit it.

    ``timed``: the item's moves take ``now`` (tasks with end times); hotpatch releases do not.
    Returns ``(before, after, move)``. Raises ValidationError("action") for an unknown action,
    Conflict for an illegal move and VersionConflict for a stale ``expected_revision``.
    """
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action=f"{audit_prefix}.{ACTIONS.get(action, 'status')}")
    move = parse_action(action)
    before = get(tenant, item_id)
    if expected_revision is not None and expected_revision != before.lock_version:
        raise VersionConflict(
            f"{noun} {item_id} is at revision {before.lock_version}, not {expected_revision}"
        )
    after = getattr(before, move)(at=call.at, **({"now": call.epoch} if timed else {}))
    uow = UnitOfWork()
    update(uow, tenant, before, after)
    uow.audit(
        audit.entry(
            call,
            tenant,
            f"{audit_prefix}.{move}",
            entity,
            item_id,
            before={"state": before.state.value},
            after={"state": after.state.value},
        )
    )
    uow.commit()
    return before, after, move
