"""The mPaaS OpenAPI actions (2020-10-28) for hotpatches: patches (CreateMcubeHotpatchResource,
ListMcubeHotpatchResources, DeleteMcubeHotpatchResource), their releases (CreateMcubeHotpatchTask,
ListMcubeHotpatchTasks, QueryMcubeHotpatchTaskDetail, UpdateMcubeHotpatchTaskStatus) and rollback
(CreateMcubeHotpatchRollbackTask) → ``services.hotpatch``, ``services.hotpatch_releases``.

An mPaaS hotpatch "resource" is our patch, a "task" our release. Differences, decided here:

- OpenAPI patches are signed by MDS (the SDK has no parameter for a developer signature);
- a grey release targets whitelists (``PublishMode`` 1); time windows (2) are refused, as in the console;
- a rollback revokes a patch (its live releases end, devices remove it on their next check); ``Id`` may
  name the patch or one of its releases (IDs are unique in a workspace); ``RollbackTaskId`` is the
  rollback's sequence number, the one devices see as ``rollbackSeq``.
"""

from __future__ import annotations

from typing import Any

from chalicelib.api import openapi_params as p
from chalicelib.api.openapi_actions import action
from chalicelib.api.openapi_rules import rule_json_list, rules_to_wire
from chalicelib.api.openapi_whitelists import task_whitelists
from chalicelib.domain.access import Permission
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.services.context import Call

_WIRE_FIELDS = {
    "platform": "Platform",
    "appVersion": "ProductVersion",
    "description": "FixDesc",
    "filename": "FileUrl",
    "file": "FileUrl",
    "patchId": "PackageId",
    "type": "PublishType",
    "whitelistIds": "WhitelistIds",
    "rules": "GreyConfigInfo",
    "action": "TaskStatus",
}
_TASK_FIELDS = {**_WIRE_FIELDS, "description": "Memo"}
RELEASE_PERIODS = {"none": 0, "gray": 1, "official": 2, "ended": 4, "rolledBack": 5}


def _period(patch: dict[str, Any], releases: list[dict[str, Any]]) -> int:
    """A patch's release status as a number: 0 never released, 1 grey releasing, 2 official releasing,
    4 every release ended, 5 rolled back."""
    if patch.get("status") == "rolledBack":
        return RELEASE_PERIODS["rolledBack"]
    live = [r for r in releases if r.get("status") in ("running", "paused")]
    if any(r.get("type") == "official" for r in live):
        return RELEASE_PERIODS["official"]
    if live:
        return RELEASE_PERIODS["gray"]
    return RELEASE_PERIODS["ended"] if releases else RELEASE_PERIODS["none"]


def _package_ids(tenant: TenantId) -> dict[tuple[str, str], int]:
    """(platform, app version) → the upgrade package of that version (a patch's ``PackageId``)."""
    from chalicelib.store import upgrade_packages

    return {
        (pkg.platform.value, pkg.version.text): p.id_out(pkg.id)
        for pkg in upgrade_packages.list_for_tenant(tenant)
    }


def patch_out(
    tenant: TenantId,
    patch: dict[str, Any],
    releases: list[dict[str, Any]],
    packages: dict[tuple[str, str], int],
) -> dict[str, Any]:
    """One patch view → the ``HotpatchResourceInfo`` item."""
    file = patch.get("file") or {}
    return {
        "Id": p.id_out(patch.get("patchId")),
        "AppCode": p.app_code(tenant),
        "ProductId": p.app_code(tenant),
        "PackageId": packages.get((str(patch.get("platform")), str(patch.get("appVersion"))), 0),
        "Platform": p.platform_out(patch.get("platform")),
        "ProductVersion": str(patch.get("appVersion") or ""),
        "HotpatchVersion": str(patch.get("patchId") or ""),
        "ReleaseVersion": str(patch.get("patchId") or ""),
        "Memo": str(patch.get("description") or ""),
        "DownloadUrl": str(file.get("url") or ""),
        "FileSize": str(file.get("size") or ""),
        "Md5": str(file.get("md5") or ""),
        "SourceName": str(file.get("filename") or ""),
        "PublishPeriod": _period(patch, releases),
        "Creator": str(patch.get("createdBy") or ""),
        "Modifier": str(patch.get("createdBy") or ""),
        "GmtCreate": p.gmt(patch.get("createdAt")),
        "GmtModified": p.gmt(patch.get("updatedAt") or patch.get("createdAt")),
    }


def release_out(tenant: TenantId, r: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """One release view (+ its patch) → the ``HotpatchTaskInfo`` item."""
    official = r.get("type") == "official"
    modified = p.gmt(r.get("updatedAt") or r.get("createdAt"))
    return {
        "Id": p.id_out(r.get("releaseId")),
        "PackageId": p.id_out(r.get("patchId")),
        "ResIds": str(r.get("patchId") or ""),
        "AppCode": p.app_code(tenant),
        "ProductId": p.app_code(tenant),
        "Platform": p.platform_out(patch.get("platform")),
        "ProductVersion": str(patch.get("appVersion") or ""),
        "ReleaseVersion": str(r.get("patchId") or ""),
        "PublishType": p.PUBLISH_TYPE_CODES.get(str(r.get("type")), 3),
        "PublishMode": p.PUBLISH_MODE_FULL if official else p.PUBLISH_MODE_CODES["whitelist"],
        "TaskStatus": p.TASK_STATUS_CODES.get(str(r.get("status")), 0),
        "WhitelistIds": ",".join(str(w) for w in r.get("whitelistIds") or []),
        "GreyConfigInfo": rules_to_wire(r.get("rules")),
        "GreyEndtime": "",
        "GreyEndtimeData": "",
        "GreyNum": 0,
        "Memo": str(r.get("description") or ""),
        "Creator": str(r.get("createdBy") or ""),
        "Modifier": str(r.get("createdBy") or ""),
        "GmtCreate": p.gmt(r.get("createdAt")),
        "GmtModified": modified,
        "GmtModifiedStr": modified,
    }


# ---------------------------------------------------------------------------------------- patches


@action(
    "CreateMcubeHotpatchResource", result_key="CreateHotpatchResourceResult", permission=Permission.RELEASE
)
def create_patch(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import file_tokens, hotpatch

    platform = (p.text(params, "Platform", required=True, max_len=16) or "").strip().lower()
    version = p.text(params, "ProductVersion", required=True, max_len=64) or ""
    description = p.text(params, "FixDesc", max_len=4000)
    url = p.text(params, "FileUrl", required=True, max_len=2048) or ""
    key = file_tokens.s3_key(file_tokens.resolve(tenant, url))
    with p.wire_errors(_WIRE_FIELDS):
        created = hotpatch.create_with_file(
            call, tenant, platform=platform, app_version=version, description=description, file_key=key
        )
    return {**p.std(call), "HotpatchResourceId": str(created["patchId"])}


@action("ListMcubeHotpatchResources", result_key="ListHotpatchResourceResult", permission=Permission.READ)
def list_patches(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import hotpatch, hotpatch_releases

    number, size = p.page(params)
    found = hotpatch.list_all(call, tenant)  # newest first
    releases = hotpatch_releases.list_all(call, tenant)
    packages = _package_ids(tenant)
    shown = [
        patch_out(tenant, patch, [r for r in releases if r["patchId"] == patch["patchId"]], packages)
        for patch in found[(number - 1) * size : number * size]
    ]
    return {**p.paged(call, len(found), number, size), "HotpatchResourceInfo": shown}


@action(
    "DeleteMcubeHotpatchResource", result_key="DeleteHotpatchResourceResult", permission=Permission.RELEASE
)
def delete_patch(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    """``AppCode``, when given, must be this workspace's (``<AppId>-<WorkspaceId>``)."""
    from chalicelib.services import hotpatch

    patch_id = p.ident(params, "Id")
    code = p.text(params, "AppCode", max_len=256)
    if code and code != p.app_code(tenant):
        raise ValidationError("AppCode", f"must be {p.app_code(tenant)} (AppId-WorkspaceId) or omitted")
    with p.wire_errors({**_WIRE_FIELDS, "patchId": "Id"}):
        hotpatch.delete(call, tenant, patch_id)
    return {**p.std(call), "DeleteResult": "success"}


# --------------------------------------------------------------------------------------- releases


@action("CreateMcubeHotpatchTask", result_key="CreateHotpatchTaskResult", permission=Permission.RELEASE)
def create_release(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    """``Platform`` (the patch's applies) and ``SyncMode`` are accepted and ignored."""
    from chalicelib.domain.hotpatch import ReleaseInput
    from chalicelib.services import hotpatch_releases

    patch_id = p.ident(params, "PackageId")
    if p.publish_type(params) == "gray" and p.publish_mode(params) != "whitelist":
        raise ValidationError("PublishMode", "hotpatches are released grey to whitelists only (1)")
    target = p.release_target(params, call.now, within=None)
    data = ReleaseInput(
        release_type=target["type"],
        whitelist_ids=target.get("whitelistIds"),
        rules=target.get("rules"),
        description=p.text(params, "Memo", max_len=4000),
    )
    with p.wire_errors(_TASK_FIELDS):
        created = hotpatch_releases.create(call, tenant, patch_id, data)
    return {**p.std(call), "HotpatchTaskId": str(created["releaseId"])}


@action("ListMcubeHotpatchTasks", result_key="ListHotpatchTasksResult", permission=Permission.READ)
def list_releases(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import hotpatch, hotpatch_releases

    patch_id = p.ident(params, "Id")
    with p.wire_errors({**_WIRE_FIELDS, "patchId": "Id"}):
        patch = hotpatch.get(call, tenant, patch_id)
    releases = hotpatch_releases.list_all(call, tenant, patch_id=patch_id)
    return {**p.std(call), "HotpatchTaskInfo": [release_out(tenant, r, patch) for r in releases]}


@action(
    "QueryMcubeHotpatchTaskDetail", result_key="QueryHotpatchTaskDetailResult", permission=Permission.READ
)
def release_detail(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import hotpatch, hotpatch_releases

    release_id = p.ident(params, "TaskId")
    with p.wire_errors({**_WIRE_FIELDS, "releaseId": "TaskId"}):
        release = hotpatch_releases.get(call, tenant, release_id)
    patch = hotpatch.get(call, tenant, str(release["patchId"]))
    listed = release_out(tenant, release, patch)
    file = patch.get("file") or {}
    packages = _package_ids(tenant)
    detail = {
        k: listed[k]
        for k in (
            "Id PackageId AppCode ProductId Platform ProductVersion ReleaseVersion PublishType PublishMode "
            "TaskStatus WhitelistIds GreyConfigInfo GreyEndtimeData GreyNum Memo Creator Modifier GmtCreate "
            "GmtModified GmtModifiedStr"
        ).split()
    }
    return {
        **p.std(call),
        "HotpatchTaskDetail": {
            **detail,
            "AppId": tenant.app_id,
            "WorkspaceId": tenant.workspace_id,
            "BaseInfoId": packages.get((str(patch.get("platform")), str(patch.get("appVersion"))), 0),
            "Bundles": [],
            "DownloadUrl": str(file.get("url") or ""),
            "FileSize": str(file.get("size") or ""),
            "Md5": str(file.get("md5") or ""),
            "SourceName": str(file.get("filename") or ""),
            "PublishPeriod": _period(
                patch, hotpatch_releases.list_all(call, tenant, patch_id=str(release["patchId"]))
            ),
            "QuickRollback": 1 if patch.get("status") == "rolledBack" else 0,
            "TaskVersion": p.millis(release.get("createdAt")),
            "RuleJsonList": rule_json_list(release.get("rules")),
            "Whitelist": task_whitelists(
                call, tenant, release.get("whitelistIds") or [], platform=detail["Platform"]
            ),
        },
    }


@action(
    "UpdateMcubeHotpatchTaskStatus",
    result_key="UpdateHotpatchTaskStatusResult",
    permission=Permission.RELEASE,
)
def change_release_status(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    """``TaskStatus`` 3 pause, 1 resume, 2 end; ``PackageId``, when given, must be the release's patch;
    ``BizType`` is accepted and ignored. ``Result`` is the release's status code after the move."""
    from chalicelib.services import hotpatch_releases

    release_id = p.ident(params, "TaskId")
    move = p.status_action(params)
    patch_id = p.integer(params, "PackageId", low=0)
    with p.wire_errors({**_TASK_FIELDS, "releaseId": "TaskId"}):
        if patch_id:
            shown = hotpatch_releases.get(call, tenant, release_id)
            if str(shown["patchId"]) != str(patch_id):
                raise ValidationError("PackageId", f"release {release_id} is of patch {shown['patchId']}")
        changed = hotpatch_releases.change_status(call, tenant, release_id, action=move)
    return {**p.std(call), "Result": str(p.TASK_STATUS_CODES.get(str(changed["status"]), 0))}


@action(
    "CreateMcubeHotpatchRollbackTask",
    result_key="CreateHotpatchRollbackTaskResult",
    permission=Permission.RELEASE,
)
def roll_back(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    """``ProductVersion``, when given, must be the patch's app version; ``ProductId`` is ignored."""
    from chalicelib.services import hotpatch, hotpatch_releases

    item_id = p.ident(params, "Id")
    try:
        patch = hotpatch.get(call, tenant, item_id)
    except NotFound:
        try:
            release = hotpatch_releases.get(call, tenant, item_id)
        except NotFound:
            raise NotFound(f"Id: no hotpatch or hotpatch task {item_id} in this workspace") from None
        patch = hotpatch.get(call, tenant, str(release["patchId"]))
    version = p.text(params, "ProductVersion", max_len=64)
    if version and version != patch["appVersion"]:
        raise ValidationError("ProductVersion", f"patch {patch['patchId']} is for {patch['appVersion']}")
    with p.wire_errors({**_WIRE_FIELDS, "patchId": "Id"}):
        rolled = hotpatch.rollback(call, tenant, str(patch["patchId"]))
    return {"RequestId": call.request_id, "RollbackTaskId": str(rolled["rollbackSeq"])}
