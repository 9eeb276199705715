"""H5 apps: create, list/search, show, delete (with every resource, task and file of the app)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.h5 import MAX_NAME, H5App, ResourceType, check_h5_id, check_text
from chalicelib.domain.paging import check_page, page_of
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit, publishing
from chalicelib.services.context import Call

MAX_PAGE_SIZE = 100


def view(app: H5App, *, warnings: tuple[str, ...] = (), resource_count: int | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "h5Id": app.h5_id,
        "name": app.name,
        "resourceType": app.resource_type.value if app.resource_type else None,
        "createdAt": app.created_at,
        "createdBy": app.created_by,
        "updatedAt": app.updated_at,
    }
    if warnings:
        data["warnings"] = list(warnings)
    if resource_count is not None:
        data["resourceCount"] = resource_count
    return data


def new_app(
    call: Call, *, h5_id: str, name: object, resource_type: object = None
) -> tuple[H5App, tuple[str, ...]]:
    """Validate a new app (no I/O). Raises ValidationError naming ``h5Id``, ``name`` or ``resourceType``."""
    checked_id, warnings = check_h5_id(h5_id)
    checked_name = check_text("name", name, limit=MAX_NAME, required=True)
    kind = None if resource_type in (None, "") else ResourceType.parse(resource_type)
    return (
        H5App(
            h5_id=checked_id,
            name=checked_name,
            resource_type=kind,
            created_at=call.at,
            created_by=call.actor,
            updated_at=call.at,
        ),
        warnings,
    )


def create_app(
    call: Call, tenant: TenantId, *, h5_id: str, name: str, resource_type: str | None = None
) -> dict[str, Any]:
    """Raises ValidationError (bad/reserved ID, name, type), Conflict (the ID exists: ``h5Id``)."""
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="h5.app.create")
    app, warnings = new_app(call, h5_id=h5_id, name=name, resource_type=resource_type)
    uow = UnitOfWork()
    store.add_app(uow, tenant, app)
    uow.audit(audit.entry(call, tenant, "h5.app.create", "h5_app", app.h5_id, after=view(app)))
    uow.commit()
    return view(app, warnings=warnings, resource_count=0)


def get_app(call: Call, tenant: TenantId, h5_id: str) -> dict[str, Any]:
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.app.read")
    app = store.get_app(tenant, h5_id)
    return view(app, resource_count=len(store.list_resources(tenant, h5_id)))


def list_apps(
    call: Call, tenant: TenantId, *, keyword: str = "", page: int = 1, page_size: int = 20
) -> dict[str, Any]:
    """Apps whose ID or name contains ``keyword`` (case-insensitive), by ID, one page at a time."""
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.app.list")
    check_page(page, page_size, max_page_size=MAX_PAGE_SIZE)
    needle = (keyword or "").strip().lower()
    apps = [a for a in store.list_apps(tenant) if not needle or needle in a.h5_id or needle in a.name.lower()]
    return page_of(apps, view, page=page, page_size=page_size)


def delete_app(call: Call, tenant: TenantId, h5_id: str) -> None:
    """Delete the app with all its resources, tasks and files; devices stop getting it (re-published).

    Records go in batches, the app itself last, so a failure midway leaves an app with fewer versions,
    never versions without their app; files are removed after the records.
    """
    from chalicelib.store import h5_files
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="h5.app.delete")
    app = store.get_app(tenant, h5_id)
    resources = store.list_resources(tenant, h5_id)
    tasks = [t for t in store.list_tasks(tenant) if t.h5_id == h5_id]
    ops: list[tuple[str, Any]] = [("task", t) for t in tasks] + [("resource", r) for r in resources]
    batch = 30  # a resource is two items (itself + its version guard), a task up to two (+ quota counter)
    while len(ops) > batch:
        uow = UnitOfWork()
        for kind, item in ops[:batch]:
            (store.remove_task if kind == "task" else store.remove_resource)(uow, tenant, item)
        uow.commit()
        ops = ops[batch:]
    uow = UnitOfWork()
    for kind, item in ops:
        (store.remove_task if kind == "task" else store.remove_resource)(uow, tenant, item)
    store.remove_app(uow, tenant, app)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "h5.app.delete",
            "h5_app",
            h5_id,
            before={**view(app), "resources": [r.version.text for r in resources], "tasks": len(tasks)},
        )
    )
    uow.commit()
    publishing.changed(tenant, "h5", (Platform.ANDROID, Platform.IOS))
    for resource in resources:
        h5_files.discard(resource.files, resource.diff)
