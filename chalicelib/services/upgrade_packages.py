"""Release packages: add, list, show, edit, delete, QR code. Their files: services/package_files.py.

A file package (APK, Enterprise IPA) is created first and its file uploaded after, with a presigned
POST; the package can be released once a file has passed inspection (``fileStatus: ready``).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace
from typing import Any, overload

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import Conflict, ValidationError, VersionConflict
from chalicelib.domain.release_tasks import iso_time
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import (
    Distribution,
    StoredFile,
    UpgradePackage,
    UpgradeTask,
    check_store_url,
    check_text,
    check_verification_code,
    package_status,
    parse_package_spec,
)
from chalicelib.services import audit, downloads, publishing
from chalicelib.services.context import Call

# --- views -----------------------------------------------------------------------------------------------


@overload
def file_view(f: StoredFile) -> dict[str, Any]: ...
@overload
def file_view(f: StoredFile | None) -> dict[str, Any] | None: ...
def file_view(f: StoredFile | None) -> dict[str, Any] | None:
    return None if f is None else {"filename": f.filename, "size": f.size, "sha256": f.sha256, "md5": f.md5}


def view(tenant: TenantId, package: UpgradePackage, tasks: list[UpgradeTask], *, now: int) -> dict[str, Any]:
    live = [t.id for t in tasks if t.is_live(now)]
    data: dict[str, Any] = {
        "packageId": package.id,
        "platform": package.platform.value,
        "distribution": package.distribution.value,
        "version": package.version.text,
        "description": package.description,
        "status": package_status(tasks, now=now).value,
        "liveTaskIds": live,
        "taskCount": len(tasks),
        "verificationRequired": package.verification_required,
        "downloadUrl": downloads.qr_link(tenant, package.id)
        if package.distribution.has_file
        else package.store_url,
        "fileStatus": package.file_status,
        "file": file_view(package.file),
        "fileError": package.file_error,
        "detected": dict(package.detected) if package.detected else None,
        "warnings": list(package.warnings),
        "createdAt": package.created_at,
        "createdBy": package.created_by,
        "updatedAt": package.updated_at,
        "revision": package.lock_version,
    }
    if package.distribution.has_store_url:
        data["storeUrl"] = package.store_url
    if package.distribution is Distribution.TESTFLIGHT:
        data["validDays"], data["testerLimit"] = package.valid_days, package.tester_limit
        data["linkExpiresAt"] = iso_time(package.link_expires_at)
        data["linkExpired"] = not package.offered(now)
    if package.distribution is Distribution.ENTERPRISE:
        data["bundleId"] = package.bundle_id
        data["icon"] = file_view(package.icon)
    if package.platform is Platform.IOS:
        data["symbols"] = (
            None
            if package.symbols is None
            else {**file_view(package.symbols), "bundles": list(package.symbol_bundles)}
        )
    return data


def _audit_view(package: UpgradePackage) -> dict[str, Any]:
    return {
        "platform": package.platform.value,
        "distribution": package.distribution.value,
        "version": package.version.text,
        "description": package.description,
        "verificationRequired": package.verification_required,
        "storeUrl": package.store_url,
        "file": file_view(package.file),
        "fileError": package.file_error,
    }


def tasks_of(tenant: TenantId, package_id: str) -> list[UpgradeTask]:
    from chalicelib.store import upgrade_tasks

    return [t for t in upgrade_tasks.list_for_tenant(tenant) if t.package_id == package_id]


# --- use cases (adding a package with its file upload is services/package_files.create) ---------------


def prepare(
    call: Call,
    tenant: TenantId,
    *,
    platform: str,
    version: str,
    distribution: str | None = None,
    description: str | None = None,
    verification_code: str | None = None,
    store_url: str | None = None,
    valid_days: int | None = None,
    tester_limit: int | None = None,
    bundle_id: str | None = None,
) -> UpgradePackage:
    """A new package, validated and given its ID, not yet stored (``add`` stores it): a caller that
    brings the files along (``package_files.create_with_files``) attaches them first.

    Raises:
        ValidationError: naming the field.
    """
    from chalicelib.store import sequences

    audit.check(call, tenant, Permission.RELEASE, action="upgrade.package.create")
    spec = parse_package_spec(
        platform=platform,
        distribution=distribution,
        version=version,
        description=description,
        verification_code=verification_code,
        store_url=store_url,
        valid_days=valid_days,
        tester_limit=tester_limit,
        bundle_id=bundle_id,
    )
    package_id = str(sequences.next_id(tenant))
    return UpgradePackage(
        id=package_id,
        platform=spec.platform,
        distribution=spec.distribution,
        version=spec.version,
        description=spec.description,
        download_key=secrets.token_urlsafe(18),
        created_at=call.at,
        created_by=call.actor,
        updated_at=call.at,
        code_digest=downloads.code_digest(tenant, package_id, spec.verification_code)
        if spec.verification_code
        else None,
        store_url=spec.store_url,
        valid_days=spec.valid_days,
        tester_limit=spec.tester_limit,
        bundle_id=spec.bundle_id,
    )


def add(call: Call, tenant: TenantId, package: UpgradePackage) -> dict[str, Any]:
    """Store a ``prepare``d package with its audit entry and publish. Raises Conflict: the version
    exists for this platform."""
    from chalicelib.store import upgrade_packages as store
    from chalicelib.store.unit_of_work import UnitOfWork

    uow = UnitOfWork()
    store.add(uow, tenant, package)
    uow.audit(
        audit.entry(
            call, tenant, "upgrade.package.create", "upgrade_package", package.id, after=_audit_view(package)
        )
    )
    uow.commit()
    publishing.changed(tenant, "upgrade", (package.platform,))
    return view(tenant, replace(package, lock_version=1), [], now=call.epoch)


def get(call: Call, tenant: TenantId, package_id: str) -> dict[str, Any]:
    from chalicelib.store import upgrade_packages as store

    audit.check(call, tenant, Permission.READ, action="upgrade.package.read")
    return view(tenant, store.get(tenant, package_id), tasks_of(tenant, package_id), now=call.epoch)


def list_all(call: Call, tenant: TenantId, *, platform: str | None = None) -> list[dict[str, Any]]:
    from chalicelib.store import upgrade_packages as store
    from chalicelib.store import upgrade_tasks

    audit.check(call, tenant, Permission.READ, action="upgrade.package.list")
    wanted = Platform.parse(platform) if platform else None
    tasks: dict[str, list[UpgradeTask]] = {}
    for task in upgrade_tasks.list_for_tenant(tenant):
        tasks.setdefault(task.package_id, []).append(task)
    now = call.epoch
    packages = [p for p in store.list_for_tenant(tenant) if wanted in (None, Platform.ALL, p.platform)]
    return [view(tenant, p, tasks.get(p.id, []), now=now) for p in reversed(packages)]  # newest first


def update(
    call: Call,
    tenant: TenantId,
    package_id: str,
    *,
    changes: dict[str, Any],
    expected_revision: int | None = None,
) -> dict[str, Any]:
    """Edit ``description``, ``verificationCode`` (``""`` removes it), ``storeUrl``, ``validDays``,
    ``testerLimit`` or ``bundleId``. Platform, distribution and version never change: tasks rely on them."""
    from chalicelib.store import upgrade_packages as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="upgrade.package.update")
    before = store.get(tenant, package_id)
    if expected_revision is not None and expected_revision != before.lock_version:
        raise VersionConflict(
            f"package {package_id} is at revision {before.lock_version}, not {expected_revision}"
        )
    after = before
    if changes.get("description") is not None:
        after = replace(after, description=check_text("description", changes["description"]))
    if changes.get("verification_code") is not None:
        code = changes["verification_code"]
        if code == "":
            after = replace(after, code_digest=None)
        elif not before.distribution.has_file:
            raise ValidationError(
                "verificationCode", "only APK and Enterprise packages have a download link to protect"
            )
        else:
            after = replace(
                after, code_digest=downloads.code_digest(tenant, package_id, check_verification_code(code))
            )
    if changes.get("store_url") is not None:
        after = replace(after, store_url=check_store_url(before.distribution, changes["store_url"]))
    if any(changes.get(k) is not None for k in ("valid_days", "tester_limit", "bundle_id")):
        spec = parse_package_spec(
            platform=before.platform,
            distribution=before.distribution,
            version=before.version.text,
            store_url=after.store_url,
            valid_days=_pick(changes, "valid_days", before.valid_days),
            tester_limit=_pick(changes, "tester_limit", before.tester_limit),
            bundle_id=_pick(changes, "bundle_id", before.bundle_id),
        )
        after = replace(
            after, valid_days=spec.valid_days, tester_limit=spec.tester_limit, bundle_id=spec.bundle_id
        )
    after = replace(after, updated_at=call.at)
    uow = UnitOfWork()
    store.update(uow, tenant, before, after)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "upgrade.package.update",
            "upgrade_package",
            package_id,
            before=_audit_view(before),
            after=_audit_view(after),
        )
    )
    uow.commit()
    publishing.changed(tenant, "upgrade", (before.platform,))
    revision = (before.lock_version or 0) + 1
    return view(tenant, replace(after, lock_version=revision), tasks_of(tenant, package_id), now=call.epoch)


def _pick(changes: dict[str, Any], key: str, current: Any) -> Any:
    return changes[key] if changes.get(key) is not None else current


def delete(call: Call, tenant: TenantId, package_id: str) -> None:
    """Delete a package with its ended tasks and files. Refused (409, naming them) while tasks are live."""
    from chalicelib.store import upgrade_files, upgrade_tasks
    from chalicelib.store import upgrade_packages as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="upgrade.package.delete")
    package = store.get(tenant, package_id)
    tasks = tasks_of(tenant, package_id)
    now = call.epoch
    live = [t for t in tasks if t.is_live(now)]
    if live:
        named = ", ".join(f"task {t.id} ({t.kind}, {t.status(now).value})" for t in live)
        raise Conflict(f"package {package_id} has live tasks: {named}; end them first", field="packageId")
    # Ended tasks first, in batches; the last commit removes the package itself, so a failure midway
    # leaves a package with fewer ended tasks, never tasks without their package.
    batch = 40
    for start in range(0, max(0, len(tasks) - batch), batch):
        uow = UnitOfWork()
        for task in tasks[start : start + batch]:
            upgrade_tasks.remove(uow, tenant, task)
        uow.commit()
    uow = UnitOfWork()
    for task in tasks[max(0, len(tasks) - batch) :]:
        upgrade_tasks.remove(uow, tenant, task)
    store.remove(uow, tenant, package)
    uow.audit(
        audit.entry(
            call, tenant, "upgrade.package.delete", "upgrade_package", package_id, before=_audit_view(package)
        )
    )
    uow.commit()
    publishing.changed(tenant, "upgrade", (package.platform,))
    for stored in (package.file, package.icon, package.symbols):
        upgrade_files.discard(stored)


def qr_code(call: Call, tenant: TenantId, package_id: str) -> dict[str, Any]:
    """The QR code of the package's download link, as SVG text and a base64 PNG."""
    from chalicelib import qrcodes
    from chalicelib.store import upgrade_packages as store

    audit.check(call, tenant, Permission.READ, action="upgrade.package.read")
    package = store.get(tenant, package_id)
    url = (
        downloads.qr_link(tenant, package.id) if package.distribution.has_file else (package.store_url or "")
    )
    return {
        "url": url,
        "verificationRequired": package.verification_required,
        "svg": qrcodes.svg(url),
        "png": base64.b64encode(qrcodes.png(url)).decode("ascii"),
    }
