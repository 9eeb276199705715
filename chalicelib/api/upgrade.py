"""Console REST for version upgrades: release packages, their files and QR codes, release tasks."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.console import WORKSPACE
from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.api.schemas import (
    CreateUpgradePackageBody,
    CreateUpgradeTaskBody,
    PackageUploadBody,
    TaskStatusBody,
    UpdateUpgradePackageBody,
    UpdateUpgradeTaskBody,
)

upgrade = Blueprint(__name__)

PACKAGES = WORKSPACE + "/upgrade/packages"
PACKAGE = PACKAGES + "/{packageId}"
TASKS = WORKSPACE + "/upgrade/tasks"


@endpoint(upgrade, PACKAGES, methods=["GET"])
def list_packages(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import upgrade_packages

    platform = request.query.get("platform") or None
    return {"packages": upgrade_packages.list_all(request.caller, request.tenant, platform=platform)}


@endpoint(upgrade, PACKAGES, methods=["POST"], body=CreateUpgradePackageBody, status=201)
def create_package(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import package_files

    b = request.body
    return package_files.create(
        request.caller,
        request.tenant,
        platform=b.platform,
        version=b.version,
        distribution=b.distribution,
        description=b.description,
        verification_code=b.verification_code,
        store_url=b.store_url,
        valid_days=b.valid_days,
        tester_limit=b.tester_limit,
        bundle_id=b.bundle_id,
        filename=b.filename,
    )


@endpoint(upgrade, PACKAGE, methods=["GET"])
def get_package(request: ApiRequest, packageId: str) -> dict[str, Any]:
    from chalicelib.services import upgrade_packages

    return upgrade_packages.get(request.caller, request.tenant, packageId)


@endpoint(upgrade, PACKAGE, methods=["PATCH"], body=UpdateUpgradePackageBody)
def update_package(request: ApiRequest, packageId: str) -> dict[str, Any]:
    from chalicelib.services import upgrade_packages

    b = request.body
    changes = b.model_dump(exclude={"revision"})
    return upgrade_packages.update(
        request.caller, request.tenant, packageId, changes=changes, expected_revision=b.revision
    )


@endpoint(upgrade, PACKAGE, methods=["DELETE"])
def delete_package(request: ApiRequest, packageId: str) -> None:
    from chalicelib.services import upgrade_packages

    upgrade_packages.delete(request.caller, request.tenant, packageId)


@endpoint(upgrade, PACKAGE + "/uploads", methods=["POST"], body=PackageUploadBody, status=201)
def upload_file(request: ApiRequest, packageId: str) -> dict[str, Any]:
    from chalicelib.services import package_files

    b = request.body
    return package_files.request_file(
        request.caller, request.tenant, packageId, kind=b.kind, filename=b.filename
    )


@endpoint(upgrade, PACKAGE + "/qrcode", methods=["GET"])
def qr_code(request: ApiRequest, packageId: str) -> dict[str, Any]:
    from chalicelib.services import upgrade_packages

    return upgrade_packages.qr_code(request.caller, request.tenant, packageId)


@endpoint(upgrade, PACKAGE + "/tasks", methods=["POST"], body=CreateUpgradeTaskBody, status=201)
def create_task(request: ApiRequest, packageId: str) -> dict[str, Any]:
    from chalicelib.domain.upgrade import TaskInput
    from chalicelib.services import upgrade_tasks

    b = request.body
    data = TaskInput(
        release_type=b.release_type,
        mode=b.mode,
        gray_model=b.gray_model,
        whitelist_ids=[str(w) for w in b.whitelist_ids] if b.whitelist_ids is not None else None,
        end_time=b.end_time,
        users_count=b.users_count,
        client_versions=b.client_versions,
        rules=b.rules,
        guide_memo=b.guide_memo,
        description=b.description,
        need_net_type=b.need_client_net_type,
        silent_days=b.silent_period_days,
    )
    return upgrade_tasks.create(request.caller, request.tenant, packageId, data)


@endpoint(upgrade, TASKS, methods=["GET"])
def list_tasks(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import upgrade_tasks

    q = request.query
    return {
        "tasks": upgrade_tasks.list_all(
            request.caller,
            request.tenant,
            package_id=q.get("packageId") or None,
            status=q.get("status") or None,
        )
    }


@endpoint(upgrade, TASKS + "/{taskId}", methods=["GET"])
def get_task(request: ApiRequest, taskId: str) -> dict[str, Any]:
    from chalicelib.services import upgrade_tasks

    return upgrade_tasks.get(request.caller, request.tenant, taskId)


_TASK_FIELDS = {  # wire body field -> TaskInput field
    "need_client_net_type": "need_net_type",
    "silent_period_days": "silent_days",
}


@endpoint(upgrade, TASKS + "/{taskId}", methods=["PATCH"], body=UpdateUpgradeTaskBody)
def modify_task(request: ApiRequest, taskId: str) -> dict[str, Any]:
    from chalicelib.services import upgrade_tasks

    b = request.body
    changes = {
        _TASK_FIELDS.get(name, name): value
        for name, value in b.model_dump(exclude_unset=True, exclude={"revision"}).items()
    }
    if changes.get("whitelist_ids") is not None:
        changes["whitelist_ids"] = [str(w) for w in changes["whitelist_ids"]]
    return upgrade_tasks.modify(request.caller, request.tenant, taskId, changes, expected_revision=b.revision)


@endpoint(upgrade, TASKS + "/{taskId}/status", methods=["POST"], body=TaskStatusBody)
def change_task_status(request: ApiRequest, taskId: str) -> dict[str, Any]:
    from chalicelib.services import upgrade_tasks

    b = request.body
    return upgrade_tasks.change_status(
        request.caller, request.tenant, taskId, action=b.action, expected_revision=b.revision
    )
