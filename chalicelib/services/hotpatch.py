"""Hotpatch patches: add (with the presigned POST of the file), the upload processor that checks, signs
or verifies the file and puts it on the CDN, list / show with report counts, and rollback.

A patch is for an app version that exists: an upgrade package of that version for that platform in
the workspace (``appVersion`` is refused otherwise). A patch whose file is refused (an unreadable zip,
a developer signature that does not verify) is removed again: nothing of it stays but the upload's
error and the audit entry.
"""

from __future__ import annotations

import zipfile
from dataclasses import replace
from typing import IO, Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import Conflict, MdsError, MissingParameter, ValidationError
from chalicelib.domain.hotpatch import (
    PRODUCT,
    Patch,
    PatchFile,
    PatchRelease,
    PatchState,
    Signer,
    decode_signature,
    parse_patch_spec,
)
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit, publishing, uploads
from chalicelib.services.context import Call

PURPOSE = "hotpatch"
MAX_ZIP_MEMBERS = 10_000
MAX_ZIP_EXPANDED = 512 * 1024 * 1024


# --- views ---------------------------------------------------------------------------------------


def view(
    patch: Patch, *, counts: tuple[int, int] = (0, 0), releases: list[PatchRelease] | None = None
) -> dict:
    applied, failed = counts
    data: dict[str, Any] = {
        "patchId": patch.id,
        "platform": patch.platform.value,
        "appVersion": patch.app_version.text,
        "description": patch.description,
        "signer": patch.signer.value,
        "status": patch.state.value,
        "file": None
        if patch.file is None
        else {k: v for k, v in patch.file.to_json().items() if k != "path"}
        | {"url": cdn_url(patch.file.path)},
        "reports": {"applied": applied, "failed": failed, "total": applied + failed},
        "createdAt": patch.created_at,
        "createdBy": patch.created_by,
        "updatedAt": patch.updated_at,
        "revision": patch.lock_version,
    }
    if patch.state is PatchState.ROLLED_BACK:
        data.update(
            rollbackSeq=patch.rollback_seq,
            rolledBackAt=patch.rolled_back_at,
            rolledBackBy=patch.rolled_back_by,
        )
    if releases is not None:
        data["releaseIds"] = [r.id for r in releases if r.patch_id == patch.id]
    return data


def _audit_view(patch: Patch) -> dict[str, Any]:
    return {
        "platform": patch.platform.value,
        "appVersion": patch.app_version.text,
        "signer": patch.signer.value,
        "status": patch.state.value,
        "sha256": patch.file.sha256 if patch.file else None,
    }


def cdn_url(path: str) -> str:
    from chalicelib.config import settings

    return f"{settings().cdn_base_url}/{path}"


# --- use cases -----------------------------------------------------------------------------------


def create(
    call: Call,
    tenant: TenantId,
    *,
    platform: str,
    app_version: str,
    filename: str,
    description: str | None = None,
    signer: str | None = None,
    signature: str | None = None,
) -> dict[str, Any]:
    """Add a patch and hand out the presigned POST for its file (checked when S3 reports it).

    Raises:
        ValidationError: ``platform``, ``appVersion`` (no upgrade package of that version), ``filename``,
            ``signer``/``signature`` (a developer-signed patch needs both a registered key and a signature).
    """
    from chalicelib.domain.uploads import PURPOSES, validate_filename
    from chalicelib.services import hotpatch_keys
    from chalicelib.store import hotpatch as store
    from chalicelib.store import sequences
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="hotpatch.patch.create")
    spec = parse_patch_spec(
        platform=platform,
        app_version=app_version,
        description=description,
        signer=signer,
        signature=signature,
    )
    if not filename:
        raise MissingParameter("filename")
    validate_filename(PURPOSES[PURPOSE], filename)
    _require_app_version(tenant, spec.platform, spec.app_version)
    if spec.signer is Signer.DEVELOPER and hotpatch_keys.developer_key(tenant) is None:
        raise ValidationError(
            "signer",
            "no developer public key is registered in this workspace; register one first (hotpatch keys)",
        )
    patch_id = str(sequences.next_id(tenant))
    token = uploads.request_upload(call, tenant, purpose=PURPOSE, filename=filename, subject=patch_id)
    patch = Patch(
        id=patch_id,
        platform=spec.platform,
        app_version=spec.app_version,
        description=spec.description,
        signer=spec.signer,
        state=PatchState.AWAITING_UPLOAD,
        created_at=call.at,
        created_by=call.actor,
        updated_at=call.at,
        pending_upload=token["uploadId"],
        developer_signature=spec.signature,
    )
    uow = UnitOfWork()
    store.add_patch(uow, tenant, patch)
    uow.audit(
        audit.entry(
            call, tenant, "hotpatch.patch.create", "hotpatch_patch", patch_id, after=_audit_view(patch)
        )
    )
    uow.commit()
    return {**view(replace(patch, lock_version=1)), "upload": token}


def create_with_file(
    call: Call,
    tenant: TenantId,
    *,
    platform: str,
    app_version: str,
    file_key: str,
    description: str | None = None,
) -> dict[str, Any]:
    """Add an MDS-signed patch whose file is already stored (``file_key``: an artifacts-bucket key the
    caller has checked belongs to ``tenant``; the file's name is its last part). The file is checked and
    signed first; the patch is stored ready, in one commit, or not at all.

    Raises:
        ValidationError: ``platform``, ``appVersion``, ``filename``, ``file``.
    """
    from chalicelib.domain.uploads import PURPOSES, validate_filename
    from chalicelib.store import hotpatch as store
    from chalicelib.store import hotpatch_files, sequences, upgrade_files
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="hotpatch.patch.create")
    spec = parse_patch_spec(platform=platform, app_version=app_version, description=description)
    filename = validate_filename(PURPOSES[PURPOSE], file_key.rsplit("/", 1)[-1])
    _require_app_version(tenant, spec.platform, spec.app_version)
    patch = Patch(
        id=str(sequences.next_id(tenant)),
        platform=spec.platform,
        app_version=spec.app_version,
        description=spec.description,
        signer=Signer.MDS,
        state=PatchState.AWAITING_UPLOAD,
        created_at=call.at,
        created_by=call.actor,
        updated_at=call.at,
    )
    local, size, sha256, md5, etag = upgrade_files.spool_object(
        file_key, max_bytes=PURPOSES[PURPOSE].max_bytes
    )
    try:
        kind = _check_file(local, filename, size)
        local.seek(0)
        signature, key_id = _signature(tenant, patch, local.read())
    finally:
        local.close()
    path = hotpatch_files.delivery_path(tenant, patch.id, sha256, filename)
    hotpatch_files.publish_object(file_key, path, if_match=etag)
    patch = patch.ready(PatchFile(path, filename, size, sha256, kind, signature, key_id, md5), at=call.at)
    try:
        uow = UnitOfWork()
        store.add_patch(uow, tenant, patch)
        uow.audit(
            audit.entry(
                call,
                tenant,
                "hotpatch.patch.create",
                "hotpatch_patch",
                patch.id,
                after={**_audit_view(patch), "size": size, "keyId": key_id},
            )
        )
        uow.commit()
    except BaseException:
        hotpatch_files.discard(path)
        raise
    return view(replace(patch, lock_version=1))


def delete(call: Call, tenant: TenantId, patch_id: str) -> None:
    """Delete a patch with its ended releases and its file.

    Raises:
        Conflict: the patch has live releases (named: end them first), or was rolled back (it stays, so
            that manifests keep telling devices that applied it to remove it).
    """
    from chalicelib.store import hotpatch as store
    from chalicelib.store import hotpatch_files
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="hotpatch.patch.delete")
    patch = store.get_patch(tenant, patch_id)
    if patch.state is PatchState.ROLLED_BACK:
        raise Conflict(
            f"patch {patch_id} was rolled back; it is kept so devices that applied it keep removing it",
            field="patchId",
        )
    releases = [r for r in store.list_releases(tenant) if r.patch_id == patch_id]
    live = [r.id for r in releases if r.is_live()]
    if live:
        raise Conflict(
            f"patch {patch_id} has live releases ({', '.join(live)}); end them first", field="patchId"
        )
    # Ended releases first, in batches; the last commit removes the patch itself, so a failure midway
    # leaves a patch with fewer ended releases, never releases without their patch.
    batch, last = 40, max(0, len(releases) - 40)
    for start in range(0, last, batch):
        uow = UnitOfWork()
        for release in releases[start : min(start + batch, last)]:
            store.remove_release(uow, tenant, release)
        uow.commit()
    uow = UnitOfWork()
    for release in releases[last:]:
        store.remove_release(uow, tenant, release)
    store.remove_patch(uow, tenant, patch)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "hotpatch.patch.delete",
            "hotpatch_patch",
            patch_id,
            before={**_audit_view(patch), "releaseIds": [r.id for r in releases]},
        )
    )
    uow.commit()
    if patch.file is not None:
        hotpatch_files.discard(patch.file.path)


def _require_app_version(tenant: TenantId, platform: Platform, version: Any) -> None:
    """A patch patches an app version MDS knows: an upgrade package of that version and platform."""
    from chalicelib.store import upgrade_packages

    if not any(
        p.platform is platform and p.version == version for p in upgrade_packages.list_for_tenant(tenant)
    ):
        raise ValidationError(
            "appVersion",
            f"no upgrade package of version {version} for {platform.value} in this workspace; "
            "a patch must target an app version that exists (add its upgrade package first)",
        )


def get(call: Call, tenant: TenantId, patch_id: str) -> dict[str, Any]:
    from chalicelib.store import hotpatch as store

    audit.check(call, tenant, Permission.READ, action="hotpatch.patch.read")
    patch = store.get_patch(tenant, patch_id)
    return view(patch, counts=store.counts(tenant, f"patch#{patch_id}"), releases=store.list_releases(tenant))


def list_all(
    call: Call, tenant: TenantId, *, platform: str | None = None, app_version: str | None = None
) -> list[dict[str, Any]]:
    from chalicelib.domain.versions import Version
    from chalicelib.store import hotpatch as store

    audit.check(call, tenant, Permission.READ, action="hotpatch.patch.list")
    wanted = Platform.parse(platform) if platform else None
    version = Version.parse(app_version, "appVersion") if app_version else None
    counts = store.all_counts(tenant)
    releases = store.list_releases(tenant)
    return [
        view(p, counts=counts.get(f"patch#{p.id}", (0, 0)), releases=releases)
        for p in reversed(store.list_patches(tenant))
        if wanted in (None, Platform.ALL, p.platform) and version in (None, p.app_version)
    ]


def rollback(call: Call, tenant: TenantId, patch_id: str) -> dict[str, Any]:
    """Revoke a released patch: its live releases end, and every manifest of its app version tells
    devices to remove it (``revoked`` + a new ``rollbackSeq``). Devices then get the previous good
    patch (the next release in priority order), or none.

    Raises:
        Conflict: the patch was never released, or was already rolled back (nothing to roll back).
    """
    from chalicelib.services import hotpatch_releases
    from chalicelib.store import hotpatch as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="hotpatch.patch.rollback")
    before = store.get_patch(tenant, patch_id)
    releases = [r for r in store.list_releases(tenant) if r.patch_id == patch_id]
    if before.state is PatchState.ROLLED_BACK or not releases:
        before.roll_back(seq=0, at=call.at, by=call.actor, ever_released=bool(releases))  # raises Conflict
    seq = store.next_rollback_seq(tenant, before.platform)
    after = before.roll_back(seq=seq, at=call.at, by=call.actor, ever_released=True)
    ended = [r for r in releases if r.is_live()]
    uow = UnitOfWork()
    store.update_patch(uow, tenant, before, after)
    for release in ended:
        store.update_release(uow, tenant, release, release.end(at=call.at))
    uow.audit(
        audit.entry(
            call,
            tenant,
            "hotpatch.patch.rollback",
            "hotpatch_patch",
            patch_id,
            before=_audit_view(before),
            after={**_audit_view(after), "rollbackSeq": seq, "endedReleases": [r.id for r in ended]},
        )
    )
    uow.commit()
    publishing.changed(tenant, PRODUCT, (before.platform,))
    fallback = hotpatch_releases.official_patch_for(tenant, before.platform, before.app_version)
    return {
        **view(replace(after, lock_version=(before.lock_version or 0) + 1)),
        "endedReleaseIds": [r.id for r in ended],
        "devicesNowGet": fallback,
    }


# --- the upload processor (S3 ObjectCreated → SQS → here) -----------------------------------------


@uploads.processor(PURPOSE)
def process_patch_file(record: Any) -> dict[str, Any]:
    """Check the uploaded file, sign it (MDS) or verify the developer's signature, put it on the CDN and
    make the patch ready. A refused file removes the patch (and says why on the upload)."""
    from chalicelib.store import hotpatch as store
    from chalicelib.store import hotpatch_files, upgrade_files

    if not record.subject:
        raise ValidationError("purpose", "hotpatch files are uploaded through the hotpatch patch endpoint")
    call = uploads.call_for(record)
    tenant, patch_id = record.tenant, record.subject
    patch = store.get_patch(tenant, patch_id)
    if patch.file is not None and patch.pending_upload is None:  # a redelivery after the commit
        f = patch.file
        return {"patchId": patch_id, "size": f.size, "sha256": f.sha256, "kind": f.kind, "keyId": f.key_id}
    if patch.pending_upload != record.upload_id:
        raise Conflict(f"patch {patch_id} expects another upload; this file was not used")
    local, size, sha256, md5 = upgrade_files.spool(record)
    try:
        try:
            kind = _check_file(local, record.filename, size)
            local.seek(0)
            signature, key_id = _signature(tenant, patch, local.read())
        except MdsError as exc:
            _refuse(call, tenant, patch, exc.message)
            raise
    finally:
        local.close()
    path = hotpatch_files.delivery_path(tenant, patch_id, sha256, record.filename)
    hotpatch_files.publish(record, path)
    file = PatchFile(path, record.filename, size, sha256, kind, signature, key_id, md5)
    try:
        _commit_ready(call, tenant, patch_id, record.upload_id, file)
    except Exception:
        hotpatch_files.discard(path)
        raise
    return {"patchId": patch_id, "size": size, "sha256": sha256, "kind": kind, "keyId": key_id}


def _check_file(local: IO[bytes], filename: str, size: int) -> str:
    """``zip`` (a readable archive with safe member names, CRCs checked, bounded) or ``blob``."""
    if size == 0:
        raise ValidationError("file", "is empty")
    if not filename.lower().endswith(".zip"):
        return "blob"
    try:
        with zipfile.ZipFile(local) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise ValidationError("file", f"has more than {MAX_ZIP_MEMBERS} entries")
            if sum(m.file_size for m in members) > MAX_ZIP_EXPANDED:
                raise ValidationError("file", f"expands to more than {MAX_ZIP_EXPANDED} bytes")
            for m in members:
                name = m.filename
                if m.flag_bits & 0x1:
                    raise ValidationError("file", f"entry {name!r} is encrypted")
                if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name:
                    raise ValidationError("file", f"entry {name!r} is an unsafe path")
            bad = archive.testzip()
            if bad is not None:
                raise ValidationError("file", f"entry {bad!r} fails its CRC check")
    except zipfile.BadZipFile:
        raise ValidationError(
            "file", "is not a zip archive (name a non-zip patch .js, .lua, .patch or .bin)"
        ) from None
    return "zip"


def _signature(tenant: TenantId, patch: Patch, content: bytes) -> tuple[str, str]:
    """(base64 signature, key ID): MDS signs; a developer signature must verify with their key."""
    import base64

    from chalicelib.security import rsa_keys
    from chalicelib.services import hotpatch_keys

    if patch.signer is Signer.MDS:
        key_id, private = hotpatch_keys.mds_key(tenant)
        return base64.b64encode(rsa_keys.sign(private, content)).decode("ascii"), key_id
    registered = hotpatch_keys.developer_key(tenant)
    if registered is None:
        raise ValidationError("signature", "no developer public key is registered to verify it with")
    raw = decode_signature(patch.developer_signature)
    if not rsa_keys.verify(registered["publicKey"], content, raw):
        raise ValidationError(
            "signature",
            f"does not verify: it is not an RSA-SHA256 signature of this file by the registered "
            f"developer key "
            f"{registered['keyId']}",
        )
    return base64.b64encode(raw).decode("ascii"), registered["keyId"]


def _refuse(call: Call, tenant: TenantId, patch: Patch, why: str) -> None:
    """Remove the patch whose file was refused, with an audit entry saying why."""
    from chalicelib.store import hotpatch as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    def remove() -> None:
        current = store.get_patch(tenant, patch.id)
        uow = UnitOfWork()
        store.remove_patch(uow, tenant, current)
        uow.audit(
            audit.entry(
                call,
                tenant,
                "hotpatch.patch.refused",
                "hotpatch_patch",
                patch.id,
                before=_audit_view(current),
                detail=why,
            )
        )
        uow.commit()

    retry_on_conflict(remove)


def _commit_ready(call: Call, tenant: TenantId, patch_id: str, upload_id: str, file: PatchFile) -> None:
    from chalicelib.store import hotpatch as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    def commit() -> None:
        before = store.get_patch(tenant, patch_id)
        if before.pending_upload != upload_id:
            raise Conflict(f"patch {patch_id} expects another upload; this file was not used")
        after = before.ready(file, at=call.at)
        uow = UnitOfWork()
        store.update_patch(uow, tenant, before, after)
        uow.audit(
            audit.entry(
                call,
                tenant,
                "hotpatch.patch.file",
                "hotpatch_patch",
                patch_id,
                before=_audit_view(before),
                after={**_audit_view(after), "size": file.size, "keyId": file.key_id},
            )
        )
        uow.commit()

    retry_on_conflict(commit)
