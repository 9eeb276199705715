"""The files of release packages: upload tokens, and the processors that inspect uploaded APKs, IPAs,
icons and dSYM archives when S3 reports them.

Only the latest requested package file may become the package's file (``pending_upload``), and never
while the package has live tasks: devices that were told about a file must get exactly that file. A
file that is not what it claims (an ``.apk`` that is no zip, an ``.ipa`` without ``Payload/*.app``) is
refused and the package records why (``fileStatus: failed``, ``fileError``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import IO, Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import Conflict, MissingParameter, ValidationError
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import Distribution, StoredFile, UpgradePackage, file_warnings
from chalicelib.services import audit, publishing, upgrade_packages, uploads
from chalicelib.services.context import Call
from chalicelib.services.upgrade_packages import file_view, tasks_of

FILE_KINDS = ("package", "icon", "symbols")
PURPOSES = {
    ("package", Distribution.APK): "android-package",
    ("package", Distribution.ENTERPRISE): "ios-package",
    ("icon", Distribution.ENTERPRISE): "upgrade-icon",
}


def create(call: Call, tenant: TenantId, *, filename: str | None = None, **spec: Any) -> dict[str, Any]:
    """Add a package (``spec``: the keyword arguments of ``upgrade_packages.prepare``). File packages
    also get an upload (``upload.post``) to send their file with.

    Raises:
        ValidationError: naming the field; Conflict: the version exists for this platform.
    """
    package = upgrade_packages.prepare(call, tenant, **spec)
    if package.distribution.has_file:
        if not filename:
            raise MissingParameter("filename")
        from chalicelib.domain.uploads import PURPOSES as UPLOAD_PURPOSES
        from chalicelib.domain.uploads import validate_filename

        validate_filename(UPLOAD_PURPOSES[PURPOSES[("package", package.distribution)]], filename)
    elif filename:
        raise ValidationError("filename", "App Store and TestFlight packages have no file")
    result = upgrade_packages.add(call, tenant, package)
    if filename:
        result["upload"] = request_file(call, tenant, package.id, kind="package", filename=filename)
    return result


def request_file(
    call: Call, tenant: TenantId, package_id: str, *, kind: str, filename: str
) -> dict[str, Any]:
    """A presigned POST for the package's ``package`` file (APK/IPA), ``icon`` (Enterprise) or
    ``symbols`` (dSYM .tgz, iOS). The file is inspected when S3 reports it; see the upload's status."""
    from chalicelib.store import upgrade_packages as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    audit.check(call, tenant, Permission.RELEASE, action="upgrade.package.upload")
    if kind not in FILE_KINDS:
        raise ValidationError("kind", "must be one of: " + ", ".join(FILE_KINDS))
    package = store.get(tenant, package_id)
    if kind == "symbols":
        if package.platform is not Platform.IOS:
            raise ValidationError("kind", "only iOS packages have a symbol table")
        purpose = "ios-symbols"
    else:
        purpose = PURPOSES.get((kind, package.distribution), "")
        if not purpose:
            what = "a file" if kind == "package" else "an icon"
            raise ValidationError("kind", f"{package.distribution.value} packages have no {what} to upload")
    if kind == "package":
        _refuse_if_live(tenant, package, call.epoch)
    token = uploads.request_upload(call, tenant, purpose=purpose, filename=filename, subject=package_id)
    if kind == "package":  # only the latest requested file may become the package's file

        def expect_upload() -> None:
            current = store.get(tenant, package_id)
            uow = UnitOfWork()
            store.update(
                uow, tenant, current, replace(current, pending_upload=token["uploadId"], updated_at=call.at)
            )
            uow.commit()

        retry_on_conflict(expect_upload)
    return token


def _refuse_if_live(tenant: TenantId, package: UpgradePackage, now: int) -> None:
    live = [t.id for t in tasks_of(tenant, package.id) if t.is_live(now)]
    if live:
        raise Conflict(
            f"package {package.id} has live tasks ({', '.join(live)}): its file cannot be replaced; "
            "end them, or add a new package version",
            field="packageId",
        )


# --- processors (S3 ObjectCreated → SQS → here) ----------------------------------------------------


@uploads.processor("android-package")
@uploads.processor("ios-package")
def process_package_file(record: Any) -> dict[str, Any]:
    """Inspect an uploaded APK / IPA; make it the package's file, or record why it was refused."""
    from chalicelib.domain.errors import MdsError
    from chalicelib.store import upgrade_files

    call = uploads.call_for(record)
    tenant, package_id = record.tenant, record.subject
    local, size, sha256, md5 = upgrade_files.spool(record)
    try:
        package = _expecting(tenant, package_id, record.upload_id)
        try:
            detected = inspect_package_file(package.distribution, local)
        except MdsError as exc:
            _record_refusal(call, tenant, package_id, record.upload_id, exc.message)
            raise
    finally:
        local.close()
    kept = upgrade_files.keep(tenant, package_id, record, size=size, sha256=sha256, md5=md5)
    try:
        before, after = _commit_file(call, tenant, package_id, record.upload_id, kept, detected)
    except Exception:
        upgrade_files.discard(kept)
        raise
    publishing.changed(tenant, "upgrade", (after.platform,))
    if before.file is not None:
        upgrade_files.discard(before.file)
    return {
        "packageId": package_id,
        "size": size,
        "sha256": sha256,
        "detected": detected,
        "warnings": list(after.warnings),
    }


def inspect_package_file(distribution: Distribution, local: IO[bytes]) -> dict[str, Any]:
    """What an APK / IPA says about itself. Raises ValidationError (``file``) when it is not one."""
    from chalicelib.packaging.app_files import inspect_apk, inspect_ipa

    if distribution is Distribution.APK:
        apk = inspect_apk(local)
        return {
            "package": apk.package,
            "versionName": apk.version_name,
            "versionCode": apk.version_code,
            "versionNameIsReference": apk.version_name_is_reference,
        }
    ipa = inspect_ipa(local)
    return {
        "app": ipa.app,
        "bundleId": ipa.bundle_id,
        "shortVersion": ipa.short_version,
        "buildVersion": ipa.build_version,
    }


def _expecting(tenant: TenantId, package_id: str, upload_id: str) -> UpgradePackage:
    from chalicelib.store import upgrade_packages as store

    package = store.get(tenant, package_id)
    if package.pending_upload != upload_id:
        raise Conflict(f"package {package_id} expects another upload now; this file was not used")
    return package


def _record_refusal(call: Call, tenant: TenantId, package_id: str, upload_id: str, why: str) -> None:
    from chalicelib.store import upgrade_packages as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    def record() -> None:
        before = _expecting(tenant, package_id, upload_id)
        after = replace(before, file_error=why, pending_upload=None, updated_at=call.at)
        uow = UnitOfWork()
        store.update(uow, tenant, before, after)
        uow.audit(
            audit.entry(
                call,
                tenant,
                "upgrade.package.file",
                "upgrade_package",
                package_id,
                before={"fileError": before.file_error},
                after={"fileError": why},
                detail="file refused",
            )
        )
        uow.commit()

    retry_on_conflict(record)


def _commit_file(
    call: Call, tenant: TenantId, package_id: str, upload_id: str, kept: StoredFile, detected: dict[str, Any]
) -> tuple[UpgradePackage, UpgradePackage]:
    from chalicelib.store import upgrade_packages as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    def commit() -> tuple[UpgradePackage, UpgradePackage]:
        before = _expecting(tenant, package_id, upload_id)
        _refuse_if_live(tenant, before, call.epoch)  # a task created meanwhile pins the old file
        after = replace(
            before, file=kept, file_error=None, pending_upload=None, detected=detected, updated_at=call.at
        )
        after = replace(after, warnings=file_warnings(after, detected))
        uow = UnitOfWork()
        store.update(uow, tenant, before, after)
        uow.audit(
            audit.entry(
                call,
                tenant,
                "upgrade.package.file",
                "upgrade_package",
                package_id,
                before={"file": file_view(before.file)},
                after={"file": file_view(kept), "warnings": list(after.warnings)},
            )
        )
        uow.commit()
        return before, after

    return retry_on_conflict(commit)


@uploads.processor("ios-symbols")
def process_symbols(record: Any) -> dict[str, Any]:
    """Check an uploaded dSYM ``.tgz`` and make it the package's one symbol table."""
    from chalicelib.packaging.app_files import inspect_symbols
    from chalicelib.store import upgrade_files

    local, size, sha256, md5 = upgrade_files.spool(record)
    try:
        info = inspect_symbols(local)
    finally:
        local.close()
    kept = upgrade_files.keep(record.tenant, record.subject, record, size=size, sha256=sha256, md5=md5)
    return _attach(record, "symbols", kept, bundles=info.bundles, result={"bundles": list(info.bundles)})


_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def check_icon(local: IO[bytes]) -> None:
    if not local.read(8).startswith(_IMAGE_MAGIC):
        raise ValidationError("file", "is not a PNG or JPEG image")


@uploads.processor("upgrade-icon")
def process_icon(record: Any) -> dict[str, Any]:
    """An Enterprise package's icon (shown while iOS installs it): a PNG or JPEG."""
    from chalicelib.store import upgrade_files

    local, size, sha256, md5 = upgrade_files.spool(record)
    try:
        check_icon(local)
    finally:
        local.close()
    kept = upgrade_files.keep(record.tenant, record.subject, record, size=size, sha256=sha256, md5=md5)
    return _attach(record, "icon", kept)


def _attach(
    record: Any,
    attribute: str,
    kept: StoredFile,
    *,
    bundles: tuple[str, ...] = (),
    result: dict | None = None,
) -> dict[str, Any]:
    from chalicelib.store import upgrade_files
    from chalicelib.store import upgrade_packages as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    call = uploads.call_for(record)
    tenant, package_id = record.tenant, record.subject

    def commit() -> UpgradePackage:
        before = store.get(tenant, package_id)
        changes: dict[str, Any] = {attribute: kept, "updated_at": call.at}
        if attribute == "symbols":
            changes["symbol_bundles"] = bundles
        after = replace(before, **changes)
        uow = UnitOfWork()
        store.update(uow, tenant, before, after)
        uow.audit(
            audit.entry(
                call,
                tenant,
                f"upgrade.package.{attribute}",
                "upgrade_package",
                package_id,
                before={attribute: file_view(getattr(before, attribute))},
                after={attribute: file_view(kept)},
            )
        )
        uow.commit()
        return before

    try:
        before = retry_on_conflict(commit)
    except Exception:
        upgrade_files.discard(kept)
        raise
    upgrade_files.discard(getattr(before, attribute))
    if attribute == "icon":
        publishing.changed(tenant, "upgrade", (before.platform,))
    return {"packageId": package_id, "size": kept.size, "sha256": kept.sha256, **(result or {})}


# --- files already stored (the OpenAPI: GetMcubeFileToken's upload host, then one action) --------------


def create_with_files(
    call: Call,
    tenant: TenantId,
    spec: dict[str, Any],
    *,
    package_key: str | None = None,
    icon_key: str | None = None,
    symbols_key: str | None = None,
) -> dict[str, Any]:
    """Add a package (``spec``: the keyword arguments of ``upgrade_packages.prepare``) together with its
    files, each an artifacts-bucket key the caller has checked belongs to ``tenant`` (the file's name
    is the key's last part). Every file is inspected first; the package is stored only if all pass,
    in one commit, and files kept for a package that then fails to commit are deleted again.

    Raises:
        ValidationError: ``file`` / ``icon`` / ``symbols`` (the file is not what its kind needs),
            ``filename``, the package fields; MissingParameter ``file`` (an APK/IPA package without one);
            Conflict: the version exists.
    """
    from chalicelib.domain.uploads import PURPOSES as UPLOAD_PURPOSES
    from chalicelib.domain.uploads import validate_filename
    from chalicelib.packaging.app_files import inspect_symbols
    from chalicelib.store import upgrade_files

    package = upgrade_packages.prepare(call, tenant, **spec)
    wanted = {"package": package_key, "icon": icon_key, "symbols": symbols_key}
    if package.distribution.has_file and not package_key:
        raise MissingParameter("file")
    for kind, key in wanted.items():
        purpose = "ios-symbols" if kind == "symbols" else PURPOSES.get((kind, package.distribution), "")
        if key and (not purpose or (kind == "symbols" and package.platform is not Platform.IOS)):
            raise ValidationError(kind if kind != "package" else "file", _no_such_file(package, kind))
    kept: list[StoredFile] = []
    changes: dict[str, Any] = {}
    try:
        for kind, key in wanted.items():
            if not key:
                continue
            purpose = "ios-symbols" if kind == "symbols" else PURPOSES[(kind, package.distribution)]
            field = "file" if kind == "package" else kind
            filename = key.rsplit("/", 1)[-1]
            try:
                validate_filename(UPLOAD_PURPOSES[purpose], filename)
            except ValidationError as exc:
                raise ValidationError(field, exc.rule) from None
            local, size, sha256, md5, etag = upgrade_files.spool_object(
                key, max_bytes=UPLOAD_PURPOSES[purpose].max_bytes
            )
            try:
                if kind == "package":
                    changes["detected"] = inspect_package_file(package.distribution, local)
                elif kind == "icon":
                    check_icon(local)
                else:
                    changes["symbol_bundles"] = inspect_symbols(local).bundles
            except ValidationError as exc:
                raise ValidationError(field, exc.rule) from None
            finally:
                local.close()
            stored = upgrade_files.keep_object(
                tenant, package.id, key, ref=etag.strip('"'), filename=filename, size=size, sha256=sha256,
                md5=md5, if_match=etag,
            )  # fmt: skip
            kept.append(stored)
            changes["file" if kind == "package" else kind] = stored
        package = replace(package, **changes)
        if package.file is not None:
            package = replace(package, warnings=file_warnings(package, package.detected or {}))
        return upgrade_packages.add(call, tenant, package)
    except BaseException:
        for stored in kept:
            upgrade_files.discard(stored)
        raise


def _no_such_file(package: UpgradePackage, kind: str) -> str:
    if kind == "symbols":
        return "only iOS packages have a symbol table"
    what = "a file" if kind == "package" else "an icon"
    return f"{package.distribution.value} packages have no {what} to upload"
