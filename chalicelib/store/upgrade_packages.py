"""Release packages in DynamoDB, with a guard item per (platform, version) so versions stay unique."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.domain.errors import Conflict
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import Distribution, StoredFile, UpgradePackage
from chalicelib.domain.versions import Version
from chalicelib.store import numbered
from chalicelib.store.models import UpgradePackageModel
from chalicelib.store.unit_of_work import UnitOfWork

_GUARD = "version#"


def _guard_key(package: UpgradePackage) -> str:
    return f"{_GUARD}{package.platform.value}#{package.version.canonical}"


def _file_json(f: StoredFile | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "objectKey": f.object_key,
        "versionId": f.version_id,
        "filename": f.filename,
        "size": f.size,
        "sha256": f.sha256,
        "md5": f.md5,
    }


def _file(data: dict[str, Any] | None) -> StoredFile | None:
    if not data:
        return None
    return StoredFile(
        object_key=data["objectKey"],
        version_id=data.get("versionId"),
        filename=data["filename"],
        size=int(data["size"]),
        sha256=data["sha256"],
        md5=data.get("md5", ""),
    )


def _from_model(m: UpgradePackageModel) -> UpgradePackage:
    return UpgradePackage(
        id=m.package_id,
        platform=Platform(m.platform),
        distribution=Distribution(m.distribution),
        version=Version.parse(m.app_version),
        description=m.description or "",
        download_key=m.download_key or "",
        created_at=m.created_at or "",
        created_by=m.created_by or "",
        updated_at=m.updated_at or "",
        code_digest=m.code_digest,
        store_url=m.store_url,
        valid_days=int(m.valid_days) if m.valid_days is not None else None,
        tester_limit=int(m.tester_limit) if m.tester_limit is not None else None,
        bundle_id=m.bundle_id,
        file=_file(m.file),
        file_error=m.file_error,
        pending_upload=m.pending_upload,
        detected=m.detected,
        warnings=tuple(m.warnings or ()),
        icon=_file(m.icon),
        symbols=_file(m.symbols),
        symbol_bundles=tuple(m.symbol_bundles or ()),
        lock_version=m.version,
    )


def _to_model(tenant: TenantId, p: UpgradePackage) -> UpgradePackageModel:
    model = UpgradePackageModel(
        tenant=tenant.key,
        package_id=p.id,
        platform=p.platform.value,
        distribution=p.distribution.value,
        app_version=p.version.text,
        description=p.description,
        download_key=p.download_key,
        code_digest=p.code_digest,
        store_url=p.store_url,
        valid_days=p.valid_days,
        tester_limit=p.tester_limit,
        bundle_id=p.bundle_id,
        file=_file_json(p.file),
        file_error=p.file_error,
        pending_upload=p.pending_upload,
        detected=dict(p.detected) if p.detected is not None else None,
        warnings=list(p.warnings),
        icon=_file_json(p.icon),
        symbols=_file_json(p.symbols),
        symbol_bundles=list(p.symbol_bundles),
        created_at=p.created_at,
        created_by=p.created_by,
        updated_at=p.updated_at,
    )
    if p.lock_version is not None:
        model.version = p.lock_version
    return model


def add(uow: UnitOfWork, tenant: TenantId, package: UpgradePackage) -> None:
    uow.save(
        UpgradePackageModel(
            tenant=tenant.key,
            package_id=_guard_key(package),
            platform=package.platform.value,
            app_version=package.id,
        ),
        condition=UpgradePackageModel.package_id.does_not_exist(),
        on_conflict=Conflict(
            f"a {package.platform.value} package with version {package.version} already exists",
            field="version",
        ),
    )
    uow.save(
        _to_model(tenant, package),
        condition=UpgradePackageModel.package_id.does_not_exist(),
        on_conflict=Conflict("package id collision; try again"),
    )


def update(uow: UnitOfWork, tenant: TenantId, before: UpgradePackage, after: UpgradePackage) -> None:
    """Optimistic: commits only if nobody changed the package since ``before`` was read."""
    uow.save(_to_model(tenant, replace(after, lock_version=before.lock_version)))


def touch(uow: UnitOfWork, tenant: TenantId, package: UpgradePackage, *, at: str) -> None:
    """Bump the package's version in this unit of work, so a concurrent change to it (a second
    task being created, the package being deleted) conflicts instead of interleaving."""
    update(uow, tenant, package, replace(package, updated_at=at))


def remove(uow: UnitOfWork, tenant: TenantId, package: UpgradePackage) -> None:
    uow.delete(UpgradePackageModel(tenant=tenant.key, package_id=_guard_key(package)), versioned=False)
    uow.delete(_to_model(tenant, package))


def get(tenant: TenantId, package_id: str) -> UpgradePackage:
    return _from_model(numbered.get(UpgradePackageModel, tenant, package_id, "package"))


def list_for_tenant(tenant: TenantId) -> list[UpgradePackage]:
    return [_from_model(m) for m in numbered.all_of(UpgradePackageModel, tenant)]
