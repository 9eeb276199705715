"""The 14 mPaaS OpenAPI actions (2020-10-28) for H5 offline packages: wire params → H5 services →
the PascalCase result objects the official SDK models read (spec/mpaas-openapi-wire.md §6).

All mPaaS naming lives here: wire names in, our service names out, and back. Enum mapping (§6.1):

- ``ResourceType`` 0 ↔ ``global``, 1 ↔ ``normal`` (an int in the create request, a string in lists);
- ``PublishType`` 2 ↔ gray, 3 ↔ official; ``PublishMode`` 1 ↔ whitelist, 2 ↔ time window
  (4 = full, shown for official tasks);
- ``TaskStatus`` 1 ↔ running, 3 ↔ paused, 2 ↔ ended (0 "to be released" never occurs: a new task
  starts running);
- ``Platform`` ``all``/``Android``/``iOS`` ↔ ``all``/``android``/``ios`` (case-insensitive in);
- ``GreyConfigInfo`` mPaaS rule JSON ↔ our rules (docs/targeting.md), ``RuleJsonList`` in task detail.

Business failures raised by the services name our fields (``h5Id``, ``version``…); ``_wire_errors``
renames them to the parameter the caller sent (``H5Id``, ``H5Version``…) before the dispatcher turns
them into a non-OK ``ResultCode``. Services are imported lazily (cold start).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from chalicelib.api import openapi_params as p
from chalicelib.api.openapi_actions import action
from chalicelib.api.openapi_rules import rule_json_list, rules_to_wire
from chalicelib.domain.access import Permission
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.services.context import Call

# -------------------------------------------------------------------------------------- enums, names

RESOURCE_TYPES = {0: "global", 1: "normal"}
RESOURCE_TYPE_CODES = {v: k for k, v in RESOURCE_TYPES.items()}
GREY_WINDOW = timedelta(days=7)
RSA_KEY_MAX_BYTES = 64 * 1024

# our field (as services name it in ValidationError) -> wire parameter
_WIRE_FIELDS = {
    "h5Id": "H5Id",
    "h5Name": "H5Name",
    "name": "H5Name",
    "keyword": "Keyword",
    "version": "H5Version",
    "platform": "Platform",
    "clientVersionMin": "ClientVersionMin",
    "clientVersionMax": "ClientVersionMax",
    "mainUrl": "MainUrl",
    "extendInfo": "ExtendInfo",
    "resourceType": "ResourceType",
    "downloadNetwork": "AutoInstall",
    "installType": "InstallType",
    "repeatNebula": "RepeatNebula",
    "vhost": "Vhost",
    "pem": "FileUrl",
    "rsaKey": "FileUrl",
    "key": "FileUrl",
    "file": "FileUrl",
    "s3Key": "FileUrl",
    "fileUrl": "FileUrl",
    "resourceId": "PackageId",
    "type": "PublishType",
    "grayModel": "PublishMode",
    "whitelistIds": "WhitelistIds",
    "endTime": "GreyEndtimeData",
    "usersCount": "GreyNum",
    "rules": "GreyConfigInfo",
    "memo": "Memo",
    "taskId": "TaskId",
    "action": "TaskStatus",
    "page": "PageNum",
    "pageSize": "PageSize",
}
_TASK_FIELDS = {"name": "TaskName"}


def wire_field(field: str, *, task: bool = False) -> str:
    """``h5Id`` → ``H5Id``; ``rules[0].values`` → ``GreyConfigInfo[0].values``; unknown names kept."""
    return p.rename_field(field, _fields(task))


def _fields(task: bool) -> dict[str, str]:
    return {**_WIRE_FIELDS, **_TASK_FIELDS} if task else _WIRE_FIELDS


def _wire_errors(*, task: bool = False) -> Any:
    return p.wire_errors(_fields(task))


def _h5_id(params: dict[str, str]) -> str:
    # format and reserved IDs are the service's rules (domain.h5.check_h5_id); only presence here
    return p.text(params, "H5Id", required=True, max_len=64) or ""


# ------------------------------------------------------------------------------------------- views


def resource_out(tenant: TenantId, r: dict[str, Any]) -> dict[str, Any]:
    """One resource view → the ``NebulaResourceInfo`` object (types per §6)."""
    resource_type = RESOURCE_TYPE_CODES.get(str(r.get("resourceType") or "normal"), 1)
    online = r.get("fallbackBaseUrl")
    return {
        "Id": p.id_out(r.get("id")),
        "H5Id": str(r.get("h5Id") or ""),
        "H5Name": str(r.get("h5Name") or ""),
        "H5Version": str(r.get("version") or ""),
        "AppCode": p.app_code(tenant),
        "Platform": p.PLATFORM_OUT.get(str(r.get("platform") or "all").lower(), str(r.get("platform"))),
        "ClientVersionMin": str(r.get("clientVersionMin") or ""),
        "ClientVersionMax": str(r.get("clientVersionMax") or ""),
        "AutoInstall": int(r.get("downloadNetwork") or 0),
        "InstallType": int(r.get("installType") or 0),
        "ResourceType": str(resource_type),
        "MainUrl": str(r.get("mainUrl") or ""),
        "Vhost": str(r.get("vhost") or ""),
        "ExtendInfo": p.as_text(r.get("extendInfo")),
        "ExtraData": json.dumps({"resourceType": str(resource_type)}),
        "DownloadUrl": str(r.get("amrUrl") or ""),
        "DebugUrl": "",
        "FallbackBaseUrl": f"{online};{online}" if online else "",  # "<intranet>;<internet>": the CDN
        "FileSize": str(r.get("fileSize") if r.get("fileSize") is not None else ""),
        "Md5": str(r.get("md5") or ""),
        "Memo": str(r.get("h5JsonUrl") or ""),
        "MetaId": 0,
        "PackageType": 0,
        "LazyLoad": 0,
        "PublishPeriod": p.PUBLISH_PERIODS.get(str(r.get("releaseStatus")), 0),
        "ReleaseVersion": "" if r.get("releaseStatus") in (None, "toBeReleased") else str(r.get("version")),
        "Status": 1 if r.get("status") == "ready" else 0,  # uploading / processing / failed: not usable
        "Creator": str(r.get("createdBy") or ""),
        "Modifier": str(r.get("updatedBy") or ""),
        "GmtCreate": p.gmt(r.get("createdAt")),
        "GmtModified": p.gmt(r.get("updatedAt") or r.get("createdAt")),
    }


def task_out(tenant: TenantId, t: dict[str, Any], *, platform: str = "all") -> dict[str, Any]:
    """One task view → the ``NebulaTaskInfo`` object (types per §6)."""
    gray = t.get("type") == "gray"
    mode = p.PUBLISH_MODE_CODES.get(str(t.get("grayModel")), 0) if gray else p.PUBLISH_MODE_FULL
    end = p.gmt(t.get("endTime"))
    modified = p.gmt(t.get("updatedAt") or t.get("createdAt"))
    return {
        "Id": p.id_out(t.get("taskId")),
        "PackageId": p.id_out(t.get("resourceId")),
        "TaskStatus": p.TASK_STATUS_CODES.get(str(t.get("status")), 0),
        "PublishType": p.PUBLISH_TYPE_CODES.get(str(t.get("type")), 3),
        "PublishMode": mode,
        "Status": 1,
        "TaskType": 0,
        "TaskVersion": p.millis(t.get("createdAt")),
        "TaskName": str(t.get("name") or t.get("h5Id") or ""),
        "Memo": str(t.get("memo") or ""),
        "Platform": p.PLATFORM_OUT.get(platform.lower(), platform),
        "AppCode": p.app_code(tenant),
        "BizType": "nebula",
        "ProductId": f"{p.app_code(tenant)}-{t.get('h5Id') or ''}",
        "ProductVersion": str(t.get("version") or ""),
        "ReleaseVersion": "",
        "WhitelistIds": ",".join(str(w) for w in t.get("whitelistIds") or []),
        "GreyConfigInfo": rules_to_wire(t.get("rules")),
        "GreyEndtime": end,
        "GreyEndtimeData": end,
        "GreyEndtimeStr": end,
        "GreyNum": int(t.get("usersCount") or 0),
        "GreyUrl": "",
        "Percent": 0,
        "SyncResult": "",
        "UpgradeNoticeNum": 0,
        "UpgradeProgress": "",
        "Creator": str(t.get("createdBy") or ""),
        "Modifier": str(t.get("updatedBy") or ""),
        "GmtCreate": p.gmt(t.get("createdAt")),
        "GmtModified": modified,
        "GmtModifiedStr": modified,
    }


def task_detail_out(tenant: TenantId, t: dict[str, Any], resource: dict[str, Any] | None) -> dict[str, Any]:
    """One task view (+ its resource) → the ``NebulaTaskDetail`` object."""
    r = resource or {}
    return {
        **task_out(tenant, t, platform=str(r.get("platform") or "all")),
        "AppId": tenant.app_id,
        "WorkspaceId": tenant.workspace_id,
        "Atomic": 0,
        "BaseInfoId": 0,
        "Cronexpress": 0,
        "DownloadUrl": str(r.get("amrUrl") or ""),
        "ExtraData": json.dumps(
            {"resourceType": str(RESOURCE_TYPE_CODES.get(str(r.get("resourceType")), 1))}
        ),
        "FileSize": str(r.get("fileSize") if r.get("fileSize") is not None else ""),
        "FullRepair": 0,
        "IssueDesc": "",
        "OssPath": "",
        "PublishPeriod": 0,
        "QuickRollback": 0,
        "SourceId": "",
        "SourceName": "",
        "SourceType": "",
        "SyncType": 0,
        "RuleJsonList": rule_json_list(t.get("rules")),
    }


def _resource_or_none(call: Call, tenant: TenantId, resource_id: Any) -> dict[str, Any] | None:
    from chalicelib.domain.errors import NotFound
    from chalicelib.services import h5_resources

    try:
        return h5_resources.get_resource(call, tenant, str(resource_id))
    except NotFound:
        return None  # the resource went away with its app; the task still lists


# -------------------------------------------------------------------------------------- vhost, RSA key


@action("CreateMcubeVhost", result_key="CreateVhostResult", permission=Permission.RELEASE)
def create_vhost(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_settings

    vhost = p.text(params, "Vhost", required=True, max_len=253) or ""
    with _wire_errors():
        h5_settings.set_vhost(call, tenant, vhost)
    return {"Data": "success"}


@action("QueryMcubeVhost", result_key="QueryVhostResult", permission=Permission.READ)
def query_vhost(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_settings

    return {"Data": h5_settings.get_vhost(call, tenant) or ""}


@action("GetMcubeFileToken", result_key="GetFileTokenResult", permission=Permission.RELEASE)
def get_file_token(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import file_tokens

    token = file_tokens.issue(call, tenant)  # OnexFlag: accepted, ignored (every token is the same kind)
    return {
        "FileToken": {
            "Accessid": token["accessid"],
            "Dir": token["dir"],
            "Expire": token["expire"],
            "Host": token["host"],
            "Policy": token["policy"],
            "Signature": token["signature"],
        }
    }


@action("UploadMcubeRsaKey", result_key="UploadRsaResult", permission=Permission.RELEASE)
def upload_rsa_key(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import file_tokens, h5_settings

    pem = file_tokens.read_small(tenant, params.get("FileUrl") or "", max_bytes=RSA_KEY_MAX_BYTES)
    with _wire_errors():
        h5_settings.upload_rsa_key(call, tenant, pem)
    return {"Data": "success"}


@action("ExistMcubeRsaKey", result_key="CheckRsaKeyResult", permission=Permission.READ)
def exist_rsa_key(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_settings

    if h5_settings.rsa_key_exists(call, tenant):
        return {"Data": "success"}
    return {"Success": False, "Data": "fail", "ResultMsg": "no RSA key has been uploaded for this workspace"}


# ------------------------------------------------------------------------------------------ H5 apps


@action("ListMcubeNebulaApps", result_key="ListMcubeNebulaAppsResult", permission=Permission.READ)
def list_apps(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_apps

    page, size = p.page(params)
    keyword = p.text(params, "Keyword", max_len=128) or ""
    with _wire_errors():
        found = h5_apps.list_apps(call, tenant, keyword=keyword, page=page, page_size=size)
    return {
        **p.paged(call, int(found.get("total") or 0), page, size),
        "NebulaAppInfos": [
            {"H5Id": str(a.get("h5Id") or ""), "H5Name": str(a.get("name") or a.get("h5Name") or "")}
            for a in found.get("items") or []
        ],
    }


@action("CreateMcubeNebulaApp", result_key="CreateNebulaAppResult", permission=Permission.RELEASE)
def create_app(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_apps

    h5_id = _h5_id(params)
    name = p.text(params, "H5Name", required=True, max_len=128) or ""
    with _wire_errors():
        h5_apps.create_app(call, tenant, h5_id=h5_id, name=name)
    return p.std(call)


@action("DeleteMcubeNebulaApp", result_key="DeleteMcubeNebulaAppResult", permission=Permission.RELEASE)
def delete_app(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_apps

    h5_id = p.text(params, "H5Id", required=True, max_len=64) or ""
    with _wire_errors():
        h5_apps.delete_app(call, tenant, h5_id)
    return p.std(call)


# ------------------------------------------------------------------------------------------ resources


def resource_spec(params: dict[str, str]) -> dict[str, Any]:
    """The wire parameters of CreateMcubeNebulaResource → the H5 resource spec (keys the service takes).

    ``CustomDomainName``, ``SubUrl`` and ``OnexFlag`` are accepted and ignored.
    """
    spec: dict[str, Any] = {
        "h5Id": _h5_id(params),
        "h5Name": p.text(params, "H5Name", max_len=128),
        "version": p.text(params, "H5Version", required=True, max_len=64),
        "platform": (p.text(params, "Platform", max_len=16) or "all").lower(),
        "clientVersionMin": p.text(params, "ClientVersionMin", max_len=128),
        "clientVersionMax": p.text(params, "ClientVersionMax", max_len=128),
        "mainUrl": p.text(params, "MainUrl", max_len=512),
        "extendInfo": p.text(params, "ExtendInfo", max_len=8192),
        "vhost": p.text(params, "Vhost", max_len=253),
    }
    resource_type = p.integer(params, "ResourceType", low=0, high=1)
    if resource_type is not None:
        spec["resourceType"] = RESOURCE_TYPES[resource_type]
    for wire, ours in (
        ("AutoInstall", "downloadNetwork"),
        ("InstallType", "installType"),
        ("RepeatNebula", "repeatNebula"),
    ):
        value = p.integer(params, wire, low=0, high=1)
        if value is not None:
            spec[ours] = value
    if spec["platform"] not in p.PLATFORM_OUT:
        raise ValidationError("Platform", "must be one of: all, Android, iOS")
    return {k: v for k, v in spec.items() if v is not None}


@action(
    "CreateMcubeNebulaResource", result_key="CreateMcubeNebulaResourceReslult", permission=Permission.RELEASE
)
def create_resource(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import file_tokens, h5_resources

    spec = resource_spec(params)
    key = file_tokens.resolve(tenant, params.get("FileUrl") or "")
    with _wire_errors():
        created = h5_resources.create_from_file(call, tenant, spec, s3_key=file_tokens.s3_key(key))
    return {**p.std(call), "NebulaResourceId": str(created.get("id") or "")}


@action("ListMcubeNebulaResources", result_key="ListMcubeNebulaResourceResult", permission=Permission.READ)
def list_resources(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_resources

    page, size = p.page(params)
    h5_id = p.text(params, "H5Id", required=True, max_len=64) or ""
    with _wire_errors():
        found = h5_resources.list_resources(call, tenant, h5_id=h5_id, page=page, page_size=size)
    return {
        **p.paged(call, int(found.get("total") or 0), page, size),
        "NebulaResourceInfo": [resource_out(tenant, r) for r in found.get("items") or []],
    }


@action("GetMcubeNebulaResource", result_key="GetNebulaResourceResult", permission=Permission.READ)
def get_resource(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    """Not one of the 14 of the brief, but the spec's "related" action: one resource by ``Id``."""
    from chalicelib.services import h5_resources

    resource_id = str(p.integer(params, "Id", required=True, low=1))
    with _wire_errors():
        found = h5_resources.get_resource(call, tenant, resource_id)
    return {**p.std(call), "NebulaResourceInfo": resource_out(tenant, found)}


# ---------------------------------------------------------------------------------------------- tasks


def task_data(params: dict[str, str], now: datetime) -> tuple[str, dict[str, Any]]:
    """CreateMcubeNebulaTask parameters → ``(resource id, task data for h5_tasks.create_task)``.

    ``Platform`` (the package's platform applies) and the pass-through fields listed in the spec
    (``AppCode``, ``BizType``, ``Percent``…) are accepted and ignored.
    """
    task_id = p.integer(params, "Id", low=0, high=2**53)
    if task_id:
        raise ValidationError("Id", "must be 0 or omitted: this action creates a task")
    package_id = p.integer(params, "PackageId", required=True, low=1)
    res_ids = p.id_list(params, "ResIds", max_len=256)
    if res_ids and res_ids != [str(package_id)]:
        raise ValidationError("ResIds", "must be the PackageId: one package per task")
    data = p.release_target(params, now, within=GREY_WINDOW)
    for wire, ours, limit in (("Memo", "memo", 2000), ("TaskName", "name", 128)):
        value = p.text(params, wire, max_len=limit)
        if value:
            data[ours] = value
    return str(package_id), data


@action("CreateMcubeNebulaTask", result_key="CreateMcubeNebulaTaskResult", permission=Permission.RELEASE)
def create_task(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    resource_id, data = task_data(params, call.now)
    with _wire_errors(task=True):
        created = h5_tasks.create_task(call, tenant, resource_id, data)
    return {**p.std(call), "NebulaTaskId": str(created.get("taskId") or "")}


@action("ListMcubeNebulaTasks", result_key="ListMcubeNebulaTaskResult", permission=Permission.READ)
def list_tasks(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    resource_id = str(p.integer(params, "Id", required=True, low=1))
    resource = _resource_or_none(call, tenant, resource_id)
    platform = str((resource or {}).get("platform") or "all")
    with _wire_errors(task=True):
        tasks = h5_tasks.list_tasks(call, tenant, resource_id=resource_id)
    return {**p.std(call), "NebulaTaskInfo": [task_out(tenant, t, platform=platform) for t in tasks]}


@action("GetMcubeNebulaTaskDetail", result_key="GetMcubeNebulaTaskDetailResult", permission=Permission.READ)
def get_task_detail(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    task_id = str(p.integer(params, "TaskId", required=True, low=1))
    with _wire_errors(task=True):
        task = h5_tasks.get_task(call, tenant, task_id)
    resource = _resource_or_none(call, tenant, task.get("resourceId"))
    return {**p.std(call), "NebulaTaskDetail": task_detail_out(tenant, task, resource)}


@action(
    "ChangeMcubeNebulaTaskStatus",
    result_key="ChangeMcubeNebulaTaskStatusResult",
    permission=Permission.RELEASE,
)
def change_task_status(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    task_id = str(p.integer(params, "TaskId", required=True, low=1))
    move = p.status_action(params)
    package_id = p.integer(params, "PackageId", low=0)
    with _wire_errors(task=True):
        if package_id:
            task = h5_tasks.get_task(call, tenant, task_id)
            if str(task.get("resourceId")) != str(package_id):
                raise ValidationError(
                    "PackageId", f"task {task_id} belongs to package {task.get('resourceId')}"
                )
        h5_tasks.change_status(call, tenant, task_id, move)
    return p.std(call)
