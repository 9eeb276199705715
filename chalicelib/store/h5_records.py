"""H5 items in DynamoDB: settings, H5 apps, resources (package versions) and their release tasks.

All of a tenant's H5 items share one partition of the ``H5`` table (a tenant has tens of apps and
hundreds of versions, not millions), told apart by the range key:

    settings                    vhost, the sealed RSA signing key, its ID and public PEM
    app#<h5Id>                  an H5 app
    res#<id>                    a resource (numeric ID from store/sequences.py)
    ver#<h5Id>#<canonical ver>  guard: one resource per (app, version)
    task#<id>                   a release task of a resource
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.h5 import (
    GrayModel,
    H5App,
    H5Resource,
    H5Task,
    PackageFiles,
    ResourceStatus,
    ResourceType,
)
from chalicelib.domain.release_tasks import ReleaseType, TaskState
from chalicelib.domain.targeting import Platform, parse_target
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.versions import Version, VersionRange
from chalicelib.store.models import H5AppModel, H5ResourceModel, H5SettingsModel, H5TaskModel
from chalicelib.store.unit_of_work import UnitOfWork

SETTINGS = "settings"


def app_key(h5_id: str) -> str:
    return f"app#{h5_id}"


def resource_key(resource_id: str) -> str:
    return f"res#{resource_id}"


def task_key(task_id: str) -> str:
    return f"task#{task_id}"


def _guard_key(h5_id: str, version: Version) -> str:
    return f"ver#{h5_id}#{version.canonical}"


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class H5Settings:
    vhost: str | None = None
    rsa_sealed: bytes | None = None
    rsa_key_id: str | None = None
    rsa_public_pem: str | None = None
    updated_at: str | None = None
    lock_version: int | None = None


def get_settings(tenant: TenantId) -> H5Settings:
    try:
        m = H5SettingsModel.get(tenant.key, SETTINGS, consistent_read=True)
    except H5SettingsModel.DoesNotExist:
        return H5Settings()
    return H5Settings(
        vhost=m.vhost,
        rsa_sealed=bytes(m.rsa_sealed) if m.rsa_sealed is not None else None,
        rsa_key_id=m.rsa_key_id,
        rsa_public_pem=m.rsa_public_pem,
        updated_at=m.updated_at,
        lock_version=m.version,
    )


def save_settings(uow: UnitOfWork, tenant: TenantId, before: H5Settings, after: H5Settings) -> None:
    """Optimistic: commits only if nobody changed the settings since ``before`` was read (a first
    save only if there were none)."""
    model = H5SettingsModel(
        tenant=tenant.key,
        item_key=SETTINGS,
        vhost=after.vhost,
        rsa_sealed=after.rsa_sealed,
        rsa_key_id=after.rsa_key_id,
        rsa_public_pem=after.rsa_public_pem,
        updated_at=after.updated_at,
    )
    if before.lock_version is not None:
        model.version = before.lock_version
    uow.save(model)


# --- apps ----------------------------------------------------------------------------------------


def _app(m: H5AppModel) -> H5App:
    return H5App(
        h5_id=m.h5_id,
        name=m.name or "",
        resource_type=ResourceType(m.resource_type) if m.resource_type else None,
        created_at=m.created_at or "",
        created_by=m.created_by or "",
        updated_at=m.updated_at or "",
        lock_version=m.version,
    )


def _app_model(tenant: TenantId, app: H5App) -> H5AppModel:
    model = H5AppModel(
        tenant=tenant.key,
        item_key=app_key(app.h5_id),
        h5_id=app.h5_id,
        name=app.name,
        resource_type=app.resource_type.value if app.resource_type else None,
        created_at=app.created_at,
        created_by=app.created_by,
        updated_at=app.updated_at,
    )
    if app.lock_version is not None:
        model.version = app.lock_version
    return model


def add_app(uow: UnitOfWork, tenant: TenantId, app: H5App) -> None:
    uow.save(
        _app_model(tenant, app),
        condition=H5AppModel.item_key.does_not_exist(),
        on_conflict=Conflict(f"H5 app {app.h5_id} already exists", field="h5Id"),
    )


def update_app(uow: UnitOfWork, tenant: TenantId, before: H5App, after: H5App) -> None:
    uow.save(_app_model(tenant, replace(after, lock_version=before.lock_version)))


def remove_app(uow: UnitOfWork, tenant: TenantId, app: H5App) -> None:
    uow.delete(_app_model(tenant, app))


def find_app(tenant: TenantId, h5_id: str) -> H5App | None:
    try:
        return _app(H5AppModel.get(tenant.key, app_key(h5_id), consistent_read=True))
    except H5AppModel.DoesNotExist:
        return None


def get_app(tenant: TenantId, h5_id: str) -> H5App:
    app = find_app(tenant, h5_id)
    if app is None:
        raise NotFound(f"H5 app {h5_id} not found")
    return app


def list_apps(tenant: TenantId) -> list[H5App]:
    items = H5AppModel.query(tenant.key, H5AppModel.item_key.startswith("app#"), consistent_read=True)
    return sorted((_app(m) for m in items), key=lambda a: a.h5_id)


# --- resources -----------------------------------------------------------------------------------


def _files_json(f: PackageFiles | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "amrKey": f.amr_key,
        "h5JsonKey": f.h5json_key,
        "cdnPrefix": f.cdn_prefix,
        "size": f.size,
        "sha256": f.sha256,
        "md5": f.md5,
        "keyId": f.key_id,
    }


def _files(data: dict[str, Any] | None) -> PackageFiles | None:
    if not data:
        return None
    return PackageFiles(
        amr_key=data["amrKey"],
        h5json_key=data["h5JsonKey"],
        cdn_prefix=data["cdnPrefix"],
        size=int(data["size"]),
        sha256=data["sha256"],
        md5=data["md5"],
        key_id=data["keyId"],
    )


def _resource(m: H5ResourceModel) -> H5Resource:
    d = m.data
    return H5Resource(
        id=m.resource_id,
        h5_id=m.h5_id,
        h5_name=d["h5Name"],
        version=Version.parse(d["version"]),
        platform=Platform(d["platform"]),
        client_ranges={Platform(p): VersionRange.from_json(r) for p, r in d["clientRanges"].items()},
        main_url=d.get("mainUrl") or "",
        extend_info=d.get("extendInfo") or "",
        resource_type=ResourceType(d["resourceType"]),
        download_network=int(d["downloadNetwork"]),
        install_type=int(d["installType"]),
        repeat_nebula=int(d.get("repeatNebula") or 0),
        vhost=d.get("vhost") or "",
        status=ResourceStatus(m.status),
        created_at=d["createdAt"],
        created_by=d["createdBy"],
        updated_at=d["updatedAt"],
        updated_by=d["updatedBy"],
        failure=d.get("failure"),
        upload_id=d.get("uploadId"),
        files=_files(d.get("files")),
        descriptor=d.get("descriptor") or {},
        cdn_prefix=d.get("cdnPrefix") or "",
        source_sha256=d.get("sourceSha256"),
        diff=d.get("diff"),
        on_cdn=d.get("onCdn", True),
        lock_version=m.version,
    )


def _resource_model(tenant: TenantId, r: H5Resource) -> H5ResourceModel:
    model = H5ResourceModel(
        tenant=tenant.key,
        item_key=resource_key(r.id),
        resource_id=r.id,
        h5_id=r.h5_id,
        status=r.status.value,
        data={
            "h5Name": r.h5_name,
            "version": r.version.text,
            "platform": r.platform.value,
            "clientRanges": {p.value: rng.to_json() for p, rng in r.client_ranges.items()},
            "mainUrl": r.main_url,
            "extendInfo": r.extend_info,
            "resourceType": r.resource_type.value,
            "downloadNetwork": r.download_network,
            "installType": r.install_type,
            "repeatNebula": r.repeat_nebula,
            "vhost": r.vhost,
            "createdAt": r.created_at,
            "createdBy": r.created_by,
            "updatedAt": r.updated_at,
            "updatedBy": r.updated_by,
            "failure": r.failure,
            "uploadId": r.upload_id,
            "files": _files_json(r.files),
            "descriptor": dict(r.descriptor),
            "cdnPrefix": r.cdn_prefix,
            "sourceSha256": r.source_sha256,
            "diff": dict(r.diff) if r.diff else None,
            "onCdn": r.on_cdn,
        },
    )
    if r.lock_version is not None:
        model.version = r.lock_version
    return model


def add_resource(
    uow: UnitOfWork, tenant: TenantId, resource: H5Resource, *, replacing: H5Resource | None = None
) -> None:
    """The resource and its (app, version) guard: a version that exists conflicts (409, ``version``).
    ``replacing``: a failed resource of the same version, removed in the same commit (its guard passes
    to the new resource)."""
    guard = H5ResourceModel(
        tenant=tenant.key,
        item_key=_guard_key(resource.h5_id, resource.version),
        resource_id=resource.id,
        h5_id=resource.h5_id,
    )
    conflict = Conflict(f"H5 app {resource.h5_id} already has version {resource.version}", field="version")
    if replacing is None:
        uow.save(guard, condition=H5ResourceModel.item_key.does_not_exist(), on_conflict=conflict)
    else:
        try:
            current = H5ResourceModel.get(tenant.key, guard.item_key, consistent_read=True)
        except H5ResourceModel.DoesNotExist:
            raise conflict from None
        guard.version = current.version  # the guard's own lock: a concurrent replacement conflicts
        uow.delete(_resource_model(tenant, replacing), on_conflict=conflict)
        uow.save(guard, condition=H5ResourceModel.resource_id == replacing.id, on_conflict=conflict)
    uow.save(
        _resource_model(tenant, resource),
        condition=H5ResourceModel.item_key.does_not_exist(),
        on_conflict=Conflict("resource id collision; try again"),
    )


def update_resource(uow: UnitOfWork, tenant: TenantId, before: H5Resource, after: H5Resource) -> None:
    """Optimistic: commits only if nobody changed the resource since ``before`` was read."""
    uow.save(_resource_model(tenant, replace(after, lock_version=before.lock_version)))


def remove_resource(uow: UnitOfWork, tenant: TenantId, resource: H5Resource) -> None:
    uow.delete(
        H5ResourceModel(tenant=tenant.key, item_key=_guard_key(resource.h5_id, resource.version)),
        versioned=False,
    )
    uow.delete(_resource_model(tenant, resource))


def get_resource(tenant: TenantId, resource_id: str) -> H5Resource:
    if not str(resource_id).isdigit():
        raise NotFound(f"resource {resource_id} not found")
    try:
        m = H5ResourceModel.get(tenant.key, resource_key(str(resource_id)), consistent_read=True)
    except H5ResourceModel.DoesNotExist:
        raise NotFound(f"resource {resource_id} not found") from None
    return _resource(m)


def list_resources(tenant: TenantId, h5_id: str | None = None) -> list[H5Resource]:
    """In ID (creation) order."""
    items = H5ResourceModel.query(
        tenant.key, H5ResourceModel.item_key.startswith("res#"), consistent_read=True
    )
    found = [_resource(m) for m in items if h5_id in (None, m.h5_id)]
    return sorted(found, key=lambda r: int(r.id))


# --- tasks ---------------------------------------------------------------------------------------


def _task(m: H5TaskModel) -> H5Task:
    d = m.data
    return H5Task(
        id=m.task_id,
        resource_id=m.resource_id,
        h5_id=m.h5_id,
        version=Version.parse(d["version"]),
        release_type=ReleaseType(d["type"]),
        gray_model=GrayModel(d["grayModel"]) if d.get("grayModel") else None,
        target=parse_target(d["target"]),
        memo=d.get("memo") or "",
        name=d.get("name") or "",
        state=TaskState(m.state),
        created_at=d["createdAt"],
        created_by=d["createdBy"],
        updated_at=d["updatedAt"],
        end_time=int(m.end_time) if m.end_time is not None else None,
        users_count=int(d["usersCount"]) if d.get("usersCount") is not None else None,
        lock_version=m.version,
    )


def _task_model(tenant: TenantId, t: H5Task) -> H5TaskModel:
    model = H5TaskModel(
        tenant=tenant.key,
        item_key=task_key(t.id),
        task_id=t.id,
        resource_id=t.resource_id,
        h5_id=t.h5_id,
        state=t.state.value,
        end_time=t.end_time,
        data={
            "version": t.version.text,
            "type": t.release_type.value,
            "grayModel": t.gray_model.value if t.gray_model else None,
            "target": t.target.to_json(),
            "memo": t.memo,
            "name": t.name,
            "createdAt": t.created_at,
            "createdBy": t.created_by,
            "updatedAt": t.updated_at,
            "usersCount": t.users_count,
        },
    )
    if t.lock_version is not None:
        model.version = t.lock_version
    return model


def add_task(uow: UnitOfWork, tenant: TenantId, task: H5Task) -> None:
    """The task, and for a time-window task its quota counter (store/quota.py), in the same commit."""
    from chalicelib.store import quota

    uow.save(
        _task_model(tenant, task),
        condition=H5TaskModel.item_key.does_not_exist(),
        on_conflict=Conflict("task id collision; try again"),
    )
    if task.dynamic:
        quota.add_counter(uow, tenant, task)


def update_task(uow: UnitOfWork, tenant: TenantId, before: H5Task, after: H5Task) -> None:
    uow.save(_task_model(tenant, replace(after, lock_version=before.lock_version)))


def remove_task(uow: UnitOfWork, tenant: TenantId, task: H5Task) -> None:
    from chalicelib.store import quota

    uow.delete(_task_model(tenant, task), versioned=False)
    if task.dynamic:
        quota.remove_counter(uow, tenant, task)


def get_task(tenant: TenantId, task_id: str) -> H5Task:
    if not str(task_id).isdigit():
        raise NotFound(f"task {task_id} not found")
    try:
        return _task(H5TaskModel.get(tenant.key, task_key(str(task_id)), consistent_read=True))
    except H5TaskModel.DoesNotExist:
        raise NotFound(f"task {task_id} not found") from None


def list_tasks(tenant: TenantId) -> list[H5Task]:
    items = H5TaskModel.query(tenant.key, H5TaskModel.item_key.startswith("task#"), consistent_read=True)
    return sorted((_task(m) for m in items), key=lambda t: int(t.id))


def claim_quota(tenant: TenantId, task_id: str, identity: str, *, now: int, end_time: int) -> bool:
    """A time-window place for ``identity`` (store/quota.py: never more than N distinct users)."""
    from chalicelib.store import quota

    return quota.claim(
        tenant,
        task_id,
        identity,
        now=now,
        end_time=end_time,
        task_model=H5TaskModel,
        task_key=task_key(task_id),
    )
