"""Hotpatch items in DynamoDB (table ``Hotpatches``).

- ``<tenant>`` / ``patch#<id>``, ``release#<id>``: the tenant's patches and releases (hundreds, one
  partition; entity fields as JSON in ``data``, optimistic locking by ``version``);
- ``<tenant>`` / ``key#mds``, ``key#developer``: the tenant's patch signing key (private half sealed)
  and the developer's registered public key;
- ``<tenant>#hpstats`` / ``patch#<id>``, ``release#<id>``: applied / failed report counters (atomic ADD);
- ``<tenant>#hpseen#<patchId>`` / ``<sha256 of the device ID>``: one mark per (device, patch), written
  with the counters in one transaction under ``attribute_not_exists``, so a report counts once.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.hotpatch import (
    Guardrail,
    Outcome,
    Patch,
    PatchFile,
    PatchRelease,
    PatchState,
    Signer,
)
from chalicelib.domain.targeting import Platform, parse_target
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import ReleaseType, TaskState
from chalicelib.domain.versions import Version
from chalicelib.store.models import HotpatchModel, _meta
from chalicelib.store.unit_of_work import UnitOfWork


class HotpatchCounterModel(Model):
    Meta = _meta("Hotpatches")
    tenant = UnicodeAttribute(hash_key=True)  # "<tenant>#hpstats"
    item_key = UnicodeAttribute(range_key=True)  # "patch#<id>" | "release#<id>"
    applied = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)


class HotpatchMarkModel(Model):
    Meta = _meta("Hotpatches")
    tenant = UnicodeAttribute(hash_key=True)  # "<tenant>#hpseen#<patchId>"
    item_key = UnicodeAttribute(range_key=True)  # sha256 of the device ID
    outcome = UnicodeAttribute()
    at = UnicodeAttribute()


class AlreadyCounted(Conflict):
    """This device already reported on this patch."""


# --- patches -------------------------------------------------------------------------------------


def _patch_data(p: Patch) -> dict[str, Any]:
    return {
        "platform": p.platform.value,
        "appVersion": p.app_version.text,
        "description": p.description,
        "signer": p.signer.value,
        "state": p.state.value,
        "createdAt": p.created_at,
        "createdBy": p.created_by,
        "updatedAt": p.updated_at,
        "file": p.file.to_json() if p.file else None,
        "pendingUpload": p.pending_upload,
        "developerSignature": p.developer_signature,
        "rollbackSeq": p.rollback_seq,
        "rolledBackAt": p.rolled_back_at,
        "rolledBackBy": p.rolled_back_by,
    }


def _patch(m: HotpatchModel) -> Patch:
    d = m.data
    return Patch(
        id=m.item_key.split("#", 1)[1],
        platform=Platform(d["platform"]),
        app_version=Version.parse(d["appVersion"]),
        description=d.get("description") or "",
        signer=Signer(d["signer"]),
        state=PatchState(d["state"]),
        created_at=d["createdAt"],
        created_by=d["createdBy"],
        updated_at=d["updatedAt"],
        file=PatchFile.from_json(d["file"]) if d.get("file") else None,
        pending_upload=d.get("pendingUpload"),
        developer_signature=d.get("developerSignature"),
        rollback_seq=int(d["rollbackSeq"]) if d.get("rollbackSeq") is not None else None,
        rolled_back_at=d.get("rolledBackAt"),
        rolled_back_by=d.get("rolledBackBy"),
        lock_version=m.version,
    )


def _model(tenant: TenantId, key: str, kind: str, data: dict[str, Any], lock: int | None) -> HotpatchModel:
    model = HotpatchModel(tenant=tenant.key, item_key=key, kind=kind, data=data)
    if lock is not None:
        model.version = lock
    return model


def add_patch(uow: UnitOfWork, tenant: TenantId, patch: Patch) -> None:
    uow.save(
        _model(tenant, f"patch#{patch.id}", "patch", _patch_data(patch), None),
        condition=HotpatchModel.item_key.does_not_exist(),
        on_conflict=Conflict("patch id collision; try again"),
    )


def update_patch(uow: UnitOfWork, tenant: TenantId, before: Patch, after: Patch) -> None:
    uow.save(_model(tenant, f"patch#{after.id}", "patch", _patch_data(after), before.lock_version))


def remove_patch(uow: UnitOfWork, tenant: TenantId, patch: Patch) -> None:
    uow.delete(_model(tenant, f"patch#{patch.id}", "patch", _patch_data(patch), patch.lock_version))


def _get(tenant: TenantId, key: str, what: str) -> HotpatchModel:
    ident = key.split("#", 1)[1]
    if not ident.isdigit():
        raise NotFound(f"{what} {ident} not found")
    try:
        return HotpatchModel.get(tenant.key, key, consistent_read=True)
    except HotpatchModel.DoesNotExist:
        raise NotFound(f"{what} {ident} not found") from None


def get_patch(tenant: TenantId, patch_id: str) -> Patch:
    return _patch(_get(tenant, f"patch#{patch_id}", "patch"))


def _all(tenant: TenantId, prefix: str) -> list[HotpatchModel]:
    items = list(
        HotpatchModel.query(tenant.key, HotpatchModel.item_key.startswith(prefix), consistent_read=True)
    )
    return sorted(items, key=lambda m: int(m.item_key.split("#", 1)[1]))


def list_patches(tenant: TenantId) -> list[Patch]:
    return [_patch(m) for m in _all(tenant, "patch#")]


# --- releases ------------------------------------------------------------------------------------


def _release_data(r: PatchRelease) -> dict[str, Any]:
    return {
        "patchId": r.patch_id,
        "type": r.release_type.value,
        "target": r.target.to_json(),
        "state": r.state.value,
        "createdAt": r.created_at,
        "createdBy": r.created_by,
        "updatedAt": r.updated_at,
        "guardrail": r.guardrail.to_json() if r.guardrail else None,
        "description": r.description,
        "pausedReason": r.paused_reason,
    }


def _release(m: HotpatchModel) -> PatchRelease:
    d = m.data
    return PatchRelease(
        id=m.item_key.split("#", 1)[1],
        patch_id=d["patchId"],
        release_type=ReleaseType(d["type"]),
        target=parse_target(d["target"]),
        state=TaskState(d["state"]),
        created_at=d["createdAt"],
        created_by=d["createdBy"],
        updated_at=d["updatedAt"],
        guardrail=Guardrail.from_json(d.get("guardrail")),
        description=d.get("description") or "",
        paused_reason=d.get("pausedReason"),
        lock_version=m.version,
    )


def add_release(uow: UnitOfWork, tenant: TenantId, release: PatchRelease) -> None:
    uow.save(
        _model(tenant, f"release#{release.id}", "release", _release_data(release), None),
        condition=HotpatchModel.item_key.does_not_exist(),
        on_conflict=Conflict("release id collision; try again"),
    )


def update_release(uow: UnitOfWork, tenant: TenantId, before: PatchRelease, after: PatchRelease) -> None:
    uow.save(_model(tenant, f"release#{after.id}", "release", _release_data(after), before.lock_version))


def remove_release(uow: UnitOfWork, tenant: TenantId, release: PatchRelease) -> None:
    uow.delete(
        _model(tenant, f"release#{release.id}", "release", _release_data(release), release.lock_version)
    )


def get_release(tenant: TenantId, release_id: str) -> PatchRelease:
    return _release(_get(tenant, f"release#{release_id}", "release"))


def list_releases(tenant: TenantId) -> list[PatchRelease]:
    return [_release(m) for m in _all(tenant, "release#")]


def touch_patch(uow: UnitOfWork, tenant: TenantId, patch: Patch, *, at: str) -> None:
    """Rewrite the patch (a version bump): a concurrent rollback or release conflicts instead of racing."""
    update_patch(uow, tenant, patch, replace(patch, updated_at=at))


# --- keys ----------------------------------------------------------------------------------------


def get_key(tenant: TenantId, which: str) -> tuple[dict[str, Any], int] | None:
    """(key data, lock version) of ``key#mds`` / ``key#developer``, or None."""
    try:
        m = HotpatchModel.get(tenant.key, f"key#{which}", consistent_read=True)
    except HotpatchModel.DoesNotExist:
        return None
    return dict(m.data), int(m.version)


def put_key(uow: UnitOfWork, tenant: TenantId, which: str, data: dict[str, Any], *, lock: int | None) -> None:
    """Create (``lock`` None: only if absent) or replace (only if still at ``lock``)."""
    model = _model(tenant, f"key#{which}", "key", data, lock)
    if lock is None:
        uow.save(
            model,
            condition=HotpatchModel.item_key.does_not_exist(),
            on_conflict=Conflict(f"the {which} patch key was created by someone else meanwhile"),
        )
    else:
        uow.save(model)


def create_key_if_absent(tenant: TenantId, which: str, data: dict[str, Any]) -> bool:
    """One conditional put outside any transaction (first use of the MDS patch key). False if present."""
    model = _model(tenant, f"key#{which}", "key", data, None)
    try:
        model.save(condition=HotpatchModel.item_key.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


# --- reports -------------------------------------------------------------------------------------


def count_report(
    tenant: TenantId,
    *,
    patch_id: str,
    release_id: str | None,
    device_hash: str,
    outcome: Outcome,
    at: str,
) -> None:
    """The mark and the counters in one transaction. Raises AlreadyCounted for a repeat."""
    uow = UnitOfWork()
    uow.save(
        HotpatchMarkModel(
            tenant=f"{tenant.key}#hpseen#{patch_id}", item_key=device_hash, outcome=outcome.value, at=at
        ),
        condition=HotpatchMarkModel.item_key.does_not_exist(),
        on_conflict=AlreadyCounted("this device already reported on this patch"),
    )
    column = HotpatchCounterModel.applied if outcome is Outcome.APPLIED else HotpatchCounterModel.failed
    keys = [f"patch#{patch_id}"] + ([f"release#{release_id}"] if release_id else [])
    for key in keys:
        uow.update(HotpatchCounterModel(tenant=f"{tenant.key}#hpstats", item_key=key), [column.add(1)])
    uow.commit()


def counts(tenant: TenantId, key: str) -> tuple[int, int]:
    """(applied, failed) for ``patch#<id>`` or ``release#<id>``."""
    try:
        m = HotpatchCounterModel.get(f"{tenant.key}#hpstats", key, consistent_read=True)
    except HotpatchCounterModel.DoesNotExist:
        return 0, 0
    return int(m.applied or 0), int(m.failed or 0)


def all_counts(tenant: TenantId) -> dict[str, tuple[int, int]]:
    return {
        m.item_key: (int(m.applied or 0), int(m.failed or 0))
        for m in HotpatchCounterModel.query(f"{tenant.key}#hpstats", consistent_read=True)
    }


def next_rollback_seq(tenant: TenantId, platform: Platform) -> int:
    """The next rollback sequence of (tenant, platform): one atomic ADD, so it only grows."""
    from chalicelib.store.models import SequenceModel

    counter = SequenceModel(tenant=f"seq#{tenant.key}#hotpatch-rollback#{platform.value}")
    counter.update(actions=[SequenceModel.value.add(1)])
    return int(counter.value)
