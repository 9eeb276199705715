"""Releases of hotpatches: create (gray to whitelists + advanced rules, or official), list, show,
pause / continue / end, and the guardrail that pauses a release on its own (actor ``system:guardrail``).

Creating a release rewrites its patch (a version bump in the same transaction), so a release cannot
slip in beside a concurrent rollback.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.hotpatch import PRODUCT, PatchRelease, ReleaseInput, in_priority_order, new_release
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import ReleaseType
from chalicelib.domain.versions import Version
from chalicelib.services import audit, publishing, release_status, whitelists
from chalicelib.services.context import Call

GUARDRAIL_ACTOR = "system:guardrail"


def view(release: PatchRelease, *, counts: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    target = release.target.to_json()
    applied, failed = counts
    return {
        "releaseId": release.id,
        "patchId": release.patch_id,
        "type": release.release_type.value,
        "status": release.state.value,
        "whitelistIds": target["whitelistIds"],
        "rules": target["rules"],
        "clientVersions": target["clientVersions"],
        "guardrail": release.guardrail.to_json() if release.guardrail else None,
        "pausedReason": release.paused_reason,
        "description": release.description,
        "reports": {"applied": applied, "failed": failed, "total": applied + failed},
        "createdAt": release.created_at,
        "createdBy": release.created_by,
        "updatedAt": release.updated_at,
        "revision": release.lock_version,
    }


def create(call: Call, tenant: TenantId, patch_id: str, data: ReleaseInput) -> dict[str, Any]:
    """Raises ValidationError naming the field, Conflict (patch not ready, rolled back, 10 live), NotFound."""
    from chalicelib.store import hotpatch as store
    from chalicelib.store import sequences
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="hotpatch.release.create")
    patch = store.get_patch(tenant, patch_id)
    live = sum(1 for r in store.list_releases(tenant) if r.patch_id == patch_id and r.is_live())
    release = new_release(patch, data, release_id="0", live_releases=live, at=call.at, by=call.actor)
    whitelists.check_exist(tenant, release.target.whitelist_ids)
    release = replace(release, id=str(sequences.next_id(tenant)))
    uow = UnitOfWork()
    store.add_release(uow, tenant, release)
    store.touch_patch(uow, tenant, patch, at=call.at)  # a concurrent rollback conflicts (409)
    uow.audit(
        audit.entry(
            call, tenant, "hotpatch.release.create", "hotpatch_release", release.id, after=view(release)
        )
    )
    uow.commit()
    publishing.changed(tenant, PRODUCT, (patch.platform,))
    return view(replace(release, lock_version=1))


def get(call: Call, tenant: TenantId, release_id: str) -> dict[str, Any]:
    from chalicelib.store import hotpatch as store

    audit.check(call, tenant, Permission.READ, action="hotpatch.release.read")
    return view(store.get_release(tenant, release_id), counts=store.counts(tenant, f"release#{release_id}"))


def list_all(
    call: Call, tenant: TenantId, *, patch_id: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    from chalicelib.store import hotpatch as store

    audit.check(call, tenant, Permission.READ, action="hotpatch.release.list")
    if status is not None and status not in ("running", "paused", "ended", "live"):
        raise ValidationError("status", "must be one of: running, paused, ended, live")
    counts = store.all_counts(tenant)
    found = [r for r in store.list_releases(tenant) if patch_id in (None, r.patch_id)]
    if status == "live":
        found = [r for r in found if r.is_live()]
    elif status is not None:
        found = [r for r in found if r.state.value == status]
    return [view(r, counts=counts.get(f"release#{r.id}", (0, 0))) for r in reversed(found)]


def change_status(
    call: Call, tenant: TenantId, release_id: str, *, action: str, expected_revision: int | None = None
) -> dict[str, Any]:
    """``pause``, ``resume`` (alias ``continue``) or ``end``. Raises Conflict for an illegal move."""
    from chalicelib.store import hotpatch as store

    before, after, _ = release_status.change(
        call,
        tenant,
        release_id,
        action,
        expected_revision=expected_revision,
        audit_prefix="hotpatch.release",
        entity="hotpatch_release",
        noun="release",
        get=store.get_release,
        update=store.update_release,
        timed=False,
    )
    publishing.changed(tenant, PRODUCT, (store.get_patch(tenant, before.patch_id).platform,))
    return view(
        replace(after, lock_version=(before.lock_version or 0) + 1),
        counts=store.counts(tenant, f"release#{release_id}"),
    )


def guard(tenant: TenantId, release_id: str) -> bool:
    """Pause ``release_id`` if its guardrail has tripped (called after each counted report).
    True if this call paused it. Idempotent: a release already paused or ended is left alone."""
    from chalicelib.services.context import SYSTEM
    from chalicelib.store import hotpatch as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    def attempt() -> tuple[bool, Platform | None]:
        release = store.get_release(tenant, release_id)
        if release.guardrail is None or not release.is_running():
            return False, None
        applied, failed = store.counts(tenant, f"release#{release_id}")
        why = release.guardrail.verdict(applied, failed, unit="reports")
        if why is None:
            return False, None
        total = applied + failed
        call = Call(principal=SYSTEM, request_id=f"guardrail-{release_id}-{total}")
        after = release.pause(at=call.at, reason=why)
        uow = UnitOfWork()
        store.update_release(uow, tenant, release, after)
        entry = audit.entry(
            call,
            tenant,
            "hotpatch.release.pause",
            "hotpatch_release",
            release_id,
            before={"state": release.state.value},
            after={"state": after.state.value, "applied": applied, "failed": failed},
            detail=why,
        )
        uow.audit(replace(entry, actor=GUARDRAIL_ACTOR))
        uow.commit()
        return True, store.get_patch(tenant, release.patch_id).platform

    paused, platform = retry_on_conflict(attempt)
    if paused and platform is not None:
        publishing.changed(tenant, PRODUCT, (platform,))
    return paused


def official_patch_for(tenant: TenantId, platform: Platform, app_version: Version) -> str | None:
    """The patch a device on ``app_version`` outside every whitelist gets now (None: no patch)."""
    from chalicelib.store import hotpatch as store

    patches = {p.id: p for p in store.list_patches(tenant) if p.platform is platform and p.usable}
    running = [
        (r, patches[r.patch_id])
        for r in store.list_releases(tenant)
        if r.patch_id in patches
        and r.is_running()
        and r.release_type is ReleaseType.OFFICIAL
        and patches[r.patch_id].app_version == app_version
    ]
    ordered = in_priority_order(running)
    return ordered[0][1].id if ordered else None


def using_whitelist(tenant: TenantId, whitelist_id: str) -> list[str]:
    """Live hotpatch releases that target ``whitelist_id`` (a whitelist in use cannot be deleted)."""
    from chalicelib.store import hotpatch as store

    return [
        f"hotpatch release {r.id} (patch {r.patch_id})"
        for r in store.list_releases(tenant)
        if whitelist_id in r.target.whitelist_ids and r.is_live()
    ]
