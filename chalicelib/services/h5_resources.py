"""H5 resources (package versions): create, process the zip into a signed ``.amr`` + ``h5.json``,
list, show, export.

Two ways in:

- console/CLI: ``create`` records the resource (``uploading``) and its upload in one commit and returns a
  presigned POST (purpose ``h5-package``); the S3 event then runs ``process_package``: ``processing`` →
  ``ready``, or ``failed`` with the reason on both the resource and the upload. A duplicate event finds
  the resource no longer waiting and changes nothing.
- OpenAPI: ``create_from_file`` processes a zip already in the artifacts bucket synchronously and
  records the resource ``ready`` (or nothing at all).

Processing streams: S3 → local temporary file → zip inspection (one chunk at a time) → ``.amr`` written to
another temporary file → S3. Files are written before the record that points at them; if anything fails
after they were written, they are deleted, so no ``.amr``/``h5.json`` is left without its record.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import IO, Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import Conflict, MdsError, ValidationError, present
from chalicelib.domain.h5 import (
    H5App,
    H5Resource,
    H5Task,
    PackageFiles,
    ResourceSpec,
    ResourceStatus,
    ResourceType,
    parse_resource_spec,
    ranges_text,
    resource_from_spec,
)
from chalicelib.domain.paging import check_page, page_of
from chalicelib.domain.release_tasks import release_status
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit, uploads
from chalicelib.services.context import Call

PACKAGE_PURPOSE = "h5-package"
MAX_PAGE_SIZE = 100


# --- views -----------------------------------------------------------------------------------------


def view(
    tenant: TenantId, resource: H5Resource, *, tasks: Iterable[H5Task] = (), now: int = 0
) -> dict[str, Any]:
    """``tasks``: this version's tasks, which its ``releaseStatus`` is derived from (as at ``now``).
    ``fallbackBaseUrl``: where a global package's files are online once released (guide
    ``http://domain/appId_workspaceId/path``); None for normal packages."""
    from chalicelib.store import h5_files

    files = resource.files
    global_ = resource.resource_type is ResourceType.GLOBAL
    return {
        "id": resource.id,
        "h5Id": resource.h5_id,
        "h5Name": resource.h5_name,
        "version": resource.version.text,
        "platform": resource.platform.value,
        "clientVersionMin": ranges_text(resource.client_ranges, "min"),
        "clientVersionMax": ranges_text(resource.client_ranges, "max"),
        "mainUrl": resource.main_url,
        "vhost": resource.vhost,
        "extendInfo": resource.extend_info,
        "resourceType": resource.resource_type.value,
        "downloadNetwork": resource.download_network,
        "installType": resource.install_type,
        "repeatNebula": resource.repeat_nebula,
        "status": resource.status.value,
        "releaseStatus": release_status(tasks, now=now).value,
        "fallbackBaseUrl": h5_files.cdn_url(h5_files.online_prefix(tenant)) if global_ else None,
        "failure": resource.failure,
        "uploadId": resource.upload_id,
        "amrUrl": h5_files.cdn_url(files.cdn_amr) if files else None,
        "h5JsonUrl": h5_files.cdn_url(files.cdn_h5json) if files else None,
        "fileSize": files.size if files else None,
        "sha256": files.sha256 if files else None,
        "md5": files.md5 if files else None,
        "keyId": files.key_id if files else None,
        "diff": (
            {k: resource.diff[k] for k in ("baseVersion", "size", "sha256")}
            | {"url": h5_files.cdn_url(resource.diff["cdnKey"])}
            if resource.diff
            else None
        ),
        "createdAt": resource.created_at,
        "createdBy": resource.created_by,
        "updatedAt": resource.updated_at,
        "updatedBy": resource.updated_by,
    }


def _audit_view(tenant: TenantId, resource: H5Resource) -> dict[str, Any]:
    data = view(tenant, resource)
    for key in ("amrUrl", "h5JsonUrl", "diff", "releaseStatus", "fallbackBaseUrl"):
        data.pop(key)
    return data


# --- validation shared by every way in ------------------------------------------------------------


def validated(tenant: TenantId, spec: Mapping[str, Any]) -> tuple[ResourceSpec, H5App | None]:
    """The spec checked against the app (None: it does not exist yet) and the configured vhost; refuses
    a version the app already has before any work is done (the guard item refuses it again on commit)."""
    from chalicelib.domain.h5 import check_h5_id
    from chalicelib.store import h5_records as store

    if not isinstance(spec, Mapping):
        raise ValidationError("body", "must be an object")
    h5_id, _ = check_h5_id(spec.get("h5Id"))
    app = store.find_app(tenant, h5_id)
    parsed = parse_resource_spec(spec, app=app, configured_vhost=store.get_settings(tenant).vhost)
    if any(
        r.version == parsed.version and r.status is not ResourceStatus.FAILED
        for r in store.list_resources(tenant, h5_id)
    ):
        raise Conflict(f"H5 app {h5_id} already has version {parsed.version}", field="version")
    return parsed, app


def _failed_same_version(tenant: TenantId, spec: ResourceSpec) -> H5Resource | None:
    """A version whose zip was refused may be uploaded again: the failed record (no files, no tasks) is
    replaced in the same commit that adds the new one."""
    from chalicelib.store import h5_records as store

    for old in store.list_resources(tenant, spec.h5_id):
        if old.version == spec.version and old.status is ResourceStatus.FAILED:
            return old
    return None


def _app_writes(uow: Any, tenant: TenantId, call: Call, spec: ResourceSpec, app: H5App | None) -> None:
    """Create the app with the resource when it is missing; fix its type by the first resource."""
    from chalicelib.store import h5_records as store

    if app is None:
        created = H5App(
            h5_id=spec.h5_id,
            name=spec.h5_name,
            resource_type=spec.resource_type,
            created_at=call.at,
            created_by=call.actor,
            updated_at=call.at,
        )
        store.add_app(uow, tenant, created)
        uow.audit(
            audit.entry(
                call,
                tenant,
                "h5.app.create",
                "h5_app",
                spec.h5_id,
                after={"h5Id": spec.h5_id, "name": spec.h5_name, "resourceType": spec.resource_type.value},
            )
        )
    elif app.resource_type is None:
        store.update_app(uow, tenant, app, replace(app, resource_type=spec.resource_type, updated_at=call.at))
    else:
        # Bump the app: a concurrent delete of the app or a change of its type conflicts.
        store.update_app(uow, tenant, app, replace(app, updated_at=call.at))


# --- console: metadata first, then the zip through a presigned POST ------------------------------


def create(call: Call, tenant: TenantId, spec: Mapping[str, Any], *, filename: str) -> dict[str, Any]:
    """Record a resource waiting for its zip; returns the resource and ``upload`` (presigned POST).

    Raises:
        ValidationError naming the field; Conflict (version exists, type change, no vhost).
    """
    from chalicelib.domain.uploads import PURPOSES, validate_filename
    from chalicelib.store import h5_files, sequences
    from chalicelib.store import h5_records as store
    from chalicelib.store import uploads as upload_store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="h5.resource.create")
    validate_filename(PURPOSES[PACKAGE_PURPOSE], filename)  # before the spec, as the form shows it
    parsed, app = validated(tenant, spec)
    resource_id = str(sequences.next_id(tenant))
    record = uploads.new_record(call, tenant, purpose=PACKAGE_PURPOSE, filename=filename, subject=resource_id)
    resource = resource_from_spec(
        parsed,
        resource_id=resource_id,
        status=ResourceStatus.UPLOADING,
        at=call.at,
        by=call.actor,
        upload_id=record.upload_id,
        cdn_prefix=h5_files.new_cdn_prefix(tenant, parsed.h5_id),
    )
    uow = UnitOfWork()
    _app_writes(uow, tenant, call, parsed, app)
    store.add_resource(uow, tenant, resource, replacing=_failed_same_version(tenant, parsed))
    upload_store.add(uow, record)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "h5.resource.create",
            "h5_resource",
            resource_id,
            after=_audit_view(tenant, resource),
        )
    )
    uow.commit()
    return {**view(tenant, replace(resource, lock_version=1)), "upload": uploads.upload_token(call, record)}


@uploads.processor(PACKAGE_PURPOSE)
def process_package(record: Any) -> dict[str, Any]:
    """The zip of a console-created resource arrived: build and record it (idempotent)."""
    from chalicelib.store import h5_files
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork

    tenant: TenantId = record.tenant
    if not record.subject:
        raise ValidationError("file", "H5 packages are uploaded through the resource endpoint")
    call = uploads.call_for(record)
    resource = store.get_resource(tenant, record.subject)
    if resource.upload_id != record.upload_id:
        raise Conflict(f"resource {resource.id} expects another upload")
    if resource.status is ResourceStatus.READY:
        return _result(resource)  # processed already (a redelivered event)
    if resource.status is ResourceStatus.FAILED:
        raise ValidationError("file", resource.failure or "processing failed")
    if resource.status is ResourceStatus.UPLOADING:
        processing = replace(resource, status=ResourceStatus.PROCESSING, updated_at=call.at)
        uow = UnitOfWork()
        store.update_resource(uow, tenant, resource, processing)
        uow.commit()
        resource = replace(processing, lock_version=(resource.lock_version or 0) + 1)
    local, _size = h5_files.spool_object(record.object_key, etag=record.etag, max_bytes=record.max_bytes)
    with local:
        try:
            files, descriptor = _package(tenant, resource, local)
        except MdsError as exc:
            _record_failure(call, tenant, resource, exc)
            raise
    ready = replace(
        resource,
        status=ResourceStatus.READY,
        failure=None,
        files=files,
        descriptor=descriptor,
        updated_at=call.at,
        updated_by=call.actor,
    )
    try:
        uow = UnitOfWork()
        store.update_resource(uow, tenant, resource, ready)
        uow.audit(
            audit.entry(
                call,
                tenant,
                "h5.resource.ready",
                "h5_resource",
                resource.id,
                after=_audit_view(tenant, ready),
            )
        )
        uow.commit()
    except BaseException:
        h5_files.discard(files)
        raise
    return _result(ready)


def _record_failure(call: Call, tenant: TenantId, resource: H5Resource, exc: MdsError) -> None:
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork

    failed = replace(resource, status=ResourceStatus.FAILED, failure=exc.message, updated_at=call.at)
    uow = UnitOfWork()
    store.update_resource(uow, tenant, resource, failed)
    uow.audit(
        audit.entry(
            call, tenant, "h5.resource.failed", "h5_resource", resource.id, after={"failure": exc.message}
        )
    )
    uow.commit()


def _result(resource: H5Resource) -> dict[str, Any]:
    files = present(resource.files, "the files of a ready resource")
    return {
        "resourceId": resource.id,
        "h5Id": resource.h5_id,
        "version": resource.version.text,
        "status": resource.status.value,
        "size": files.size,
        "sha256": files.sha256,
        "md5": files.md5,
    }


# --- OpenAPI: the zip is already in the artifacts bucket ----------------------------------------


def create_from_file(call: Call, tenant: TenantId, spec: Mapping[str, Any], *, s3_key: str) -> dict[str, Any]:
    """Validate, build and record a resource from a zip at ``s3_key`` (artifacts bucket), synchronously.

    Raises:
        ValidationError naming the field (``file`` for a bad zip); Conflict (version exists, type change,
        no vhost or key). On any error nothing is left: no files, no records.
    """
    from chalicelib.domain.uploads import PURPOSES
    from chalicelib.store import h5_files

    audit.check(call, tenant, Permission.RELEASE, action="h5.resource.create")
    parsed, app = validated(tenant, spec)
    if not isinstance(s3_key, str) or not s3_key:
        raise ValidationError("fileUrl", "is required")
    local, _size = h5_files.spool_object(s3_key, etag=None, max_bytes=PURPOSES[PACKAGE_PURPOSE].max_bytes)
    with local:
        return create_ready(call, tenant, parsed, app, local)


def create_ready(
    call: Call,
    tenant: TenantId,
    parsed: ResourceSpec,
    app: H5App | None,
    zip_file: IO[bytes],
    *,
    source_sha256: str | None = None,
) -> dict[str, Any]:
    """Build the package from a local zip and record the resource ``ready`` with its app (created when
    ``app`` is None) in one commit; the files are deleted again if the commit fails."""
    from chalicelib.store import h5_files, sequences
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork

    resource_id = str(sequences.next_id(tenant))
    resource = resource_from_spec(
        parsed,
        resource_id=resource_id,
        status=ResourceStatus.PROCESSING,
        at=call.at,
        by=call.actor,
        upload_id=None,
        cdn_prefix=h5_files.new_cdn_prefix(tenant, parsed.h5_id),
    )
    files, descriptor = _package(tenant, resource, zip_file)
    ready = replace(
        resource, status=ResourceStatus.READY, files=files, descriptor=descriptor, source_sha256=source_sha256
    )
    try:
        uow = UnitOfWork()
        _app_writes(uow, tenant, call, parsed, app)
        store.add_resource(uow, tenant, ready, replacing=_failed_same_version(tenant, parsed))
        uow.audit(
            audit.entry(
                call,
                tenant,
                "h5.resource.create",
                "h5_resource",
                resource_id,
                after=_audit_view(tenant, ready),
            )
        )
        uow.commit()
    except BaseException:
        h5_files.discard(files)
        raise
    return view(tenant, replace(ready, lock_version=1))


# --- the pipeline --------------------------------------------------------------------------------


def _package(
    tenant: TenantId, resource: H5Resource, zip_file: IO[bytes]
) -> tuple[PackageFiles, dict[str, Any]]:
    """Inspect the zip, build the signed ``.amr`` and ``h5.json``, write them. Returns what was written.

    Raises:
        ValidationError: ``file`` (the zip breaks a rule), ``mainUrl`` (not in the package).
        Conflict: no signing key yet.
    """
    from chalicelib.packaging import amr, h5zip
    from chalicelib.services import h5_settings
    from chalicelib.store import h5_files

    key_id, private_key = h5_settings.signing_key(tenant)
    report = h5zip.inspect(
        zip_file,
        h5_id=resource.h5_id,
        resource_type=resource.resource_type.value,
        tenant_app_id=tenant.app_id,
        workspace_id=tenant.workspace_id,
    )
    if resource.resource_type is ResourceType.NORMAL and resource.main_url:
        paths = {m.path for m in report.members}
        if resource.main_url.lstrip("/") not in paths:
            raise ValidationError("mainUrl", f"{resource.main_url} is not a file of the package")
    prefix = h5_files.artifact_prefix(tenant, resource.h5_id, resource.id)
    amr_name = f"{resource.h5_id}-{resource.version.text.strip()}.amr"
    with tempfile.TemporaryFile() as out:
        built = amr.build(
            zip_file,
            report,
            out,
            private_key=private_key,
            descriptor_fields={
                "version": resource.version.text.strip(),
                "name": resource.h5_name,
                "vhost": resource.vhost,
                "mainUrl": resource.main_url,
                "appId": tenant.app_id,
                "workspaceId": tenant.workspace_id,
            },
        )
        files = PackageFiles(
            amr_key=prefix + amr_name,
            h5json_key=prefix + "h5.json",
            cdn_prefix=resource.cdn_prefix,
            size=built.size,
            sha256=built.sha256,
            md5=built.md5,
            key_id=built.key_id or key_id,
        )
        descriptor = amr.descriptor(
            h5_id=resource.h5_id,
            version=resource.version.text.strip(),
            resource_type=resource.resource_type.value,
            vhost=resource.vhost,
            main_url=resource.main_url or None,
            package_url=h5_files.cdn_url(files.cdn_amr),
            build=built,
            client_ranges={
                p.value: {"min": r.min.text if r.min else "", "max": r.max.text if r.max else ""}
                for p, r in resource.client_ranges.items()
            },
            extend_info=json.loads(resource.extend_info) if resource.extend_info else None,
            download_network=resource.download_network,
            install_type=resource.install_type,
            name=resource.h5_name,
        )
        body = json.dumps(descriptor, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            h5_files.put_package(files, out, body)
        except BaseException:
            h5_files.discard(files)
            raise
    return files, descriptor


# --- diff packages -------------------------------------------------------------------------------


def with_diff(tenant: TenantId, resource: H5Resource) -> H5Resource:
    """``resource`` with a diff package from the previous released version of its app (built and written
    now if it has none yet; see ``domain.h5.diff_base``). The caller records the returned resource and
    discards ``diff`` files if that fails. Any problem building it (e.g. the base was signed with a key
    that has since been replaced) means no diff: devices then download the full package."""
    import logging

    from chalicelib.domain.h5 import diff_base
    from chalicelib.logs import log
    from chalicelib.packaging import amr
    from chalicelib.services import h5_settings
    from chalicelib.store import h5_files
    from chalicelib.store import h5_records as store

    files = resource.files
    if files is None or resource.diff is not None:
        return resource
    released = {t.resource_id for t in store.list_tasks(tenant) if t.h5_id == resource.h5_id}
    base = diff_base(resource, store.list_resources(tenant, resource.h5_id), released)
    if base is None or base.files is None:
        return resource
    amr_key, cdn_key = h5_files.diff_keys(files, base.version.text.strip())
    try:
        _key_id, private_key = h5_settings.signing_key(tenant)
        with (
            h5_files.spool_artifact(base.files.amr_key) as old,
            h5_files.spool_artifact(files.amr_key) as new,
            tempfile.TemporaryFile() as out,
        ):
            built = amr.build_diff(old, new, out, private_key=private_key)
            if built.size >= files.size:
                return resource  # nothing to gain
            h5_files.put_diff(amr_key, cdn_key, out)
    except MdsError as exc:
        log(logging.WARNING, "no diff package", resourceId=resource.id, reason=exc.message)
        return resource
    diff = {
        "baseVersion": base.version.text.strip(),
        "baseResourceId": base.id,
        "amrKey": amr_key,
        "cdnKey": cdn_key,
        "size": built.size,
        "sha256": built.sha256,
        "md5": built.md5,
    }
    return replace(resource, diff=diff)


# --- reading -------------------------------------------------------------------------------------


def list_resources(
    call: Call, tenant: TenantId, *, h5_id: str, page: int = 1, page_size: int = 20
) -> dict[str, Any]:
    """Versions of one H5 app, newest first, one page at a time."""
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.resource.list")
    check_page(page, page_size, max_page_size=MAX_PAGE_SIZE)
    store.get_app(tenant, h5_id)
    found = list(reversed(store.list_resources(tenant, h5_id)))
    tasks: dict[str, list[H5Task]] = {}
    for task in store.list_tasks(tenant):
        tasks.setdefault(task.resource_id, []).append(task)
    return page_of(
        found,
        lambda r: view(tenant, r, tasks=tasks.get(r.id, ()), now=call.epoch),
        page=page,
        page_size=page_size,
    )


def get_resource(call: Call, tenant: TenantId, resource_id: str) -> dict[str, Any]:
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.resource.read")
    tasks = [t for t in store.list_tasks(tenant) if t.resource_id == resource_id]
    return view(tenant, store.get_resource(tenant, resource_id), tasks=tasks, now=call.epoch)


def export(call: Call, tenant: TenantId, resource_id: str) -> dict[str, Any]:
    """Short-lived download links of the version's ``.amr`` and ``h5.json`` (any version, ended ones too).

    Raises:
        Conflict: the resource has no files (not processed, or failed).
    """
    from chalicelib.store import h5_files
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.resource.export")
    resource = store.get_resource(tenant, resource_id)
    files = resource.files
    if files is None:
        raise Conflict(f"resource {resource_id} is {resource.status.value}; it has no package to export")
    return {
        "resourceId": resource.id,
        "amrUrl": h5_files.export_url(files.amr_key, files.amr_name),
        "h5JsonUrl": h5_files.export_url(
            files.h5json_key, f"{resource.h5_id}-{resource.version.text}.h5.json"
        ),
        "expiresIn": 300,
        "h5Json": dict(resource.descriptor),
    }
