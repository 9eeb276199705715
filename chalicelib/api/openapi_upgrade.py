"""The mPaaS OpenAPI actions (2020-10-28) for version upgrades: packages (CreateMcubeUpgradePackage,
GetMcubeUpgradePackageInfo, ListMcubeUpgradePackages, DeleteMcubeUpgradeResource) and their release
tasks (CreateMcubeUpgradeTask, GetMcubeUpgradeTaskInfo, ListMcubeUpgradeTasks,
QueryMdsUpgradeTaskDetail, ChangeMcubePublicTaskStatus) → ``services.upgrade_packages``,
``services.package_files``, ``services.upgrade_tasks``.

Mapping (docs/openapi.md has the table per action):

- a package's kind: Android → ``apk``; iOS ``IsEnterprise=1`` → ``enterprise``, ``ValidDays`` or
  ``InstallAmount`` given → ``testFlight``, otherwise ``appStore``;
- its files: ``FileUrl`` (APK/IPA), ``IconFileUrl``, ``IosSymbolfileUrl`` are files uploaded with
  GetMcubeFileToken, resolved within the caller's workspace and inspected before the package is stored;
- ``UpgradeType`` is the client's ``resultStatus``: 202 single reminder, 204 multiple, 206 forced;
- ``UpgradeContent`` → the prompt (``guideMemo``), ``Memo`` → ``description``;
- task who-gets-it parameters, status codes and rules as every product (``openapi_params``).
"""

from __future__ import annotations

from typing import Any

from chalicelib.api import openapi_params as p
from chalicelib.api.openapi_actions import action
from chalicelib.api.openapi_rules import RULE_ELEMENTS, rule_json_list, rules_to_wire
from chalicelib.api.openapi_whitelists import task_whitelists
from chalicelib.domain.access import Permission
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.services.context import Call

# our field (as the upgrade services name it) -> wire parameter
_PACKAGE_FIELDS = {
    "platform": "Platform",
    "version": "AppVersion",
    "distribution": "IsEnterprise",
    "description": "Desc",
    "storeUrl": "AppstoreUrl",
    "validDays": "ValidDays",
    "testerLimit": "InstallAmount",
    "bundleId": "BundleId",
    "file": "FileUrl",
    "filename": "FileUrl",
    "icon": "IconFileUrl",
    "symbols": "IosSymbolfileUrl",
    "packageId": "PackageId",
}
_TASK_FIELDS = {
    "type": "PublishType",
    "grayModel": "PublishMode",
    "mode": "UpgradeType",
    "whitelistIds": "WhitelistIds",
    "endTime": "GreyEndtimeData",
    "usersCount": "GreyNum",
    "rules": "GreyConfigInfo",
    "guideMemo": "UpgradeContent",
    "description": "Memo",
    "packageId": "PackageInfoId",
    "action": "TaskStatus",
    "taskId": "TaskId",
}
_PLATFORMS_IN = {"android": "android", "ios": "ios"}

# ----------------------------------------------------------------------------------------- packages


def package_spec(params: dict[str, str]) -> dict[str, Any]:
    """CreateMcubeUpgradePackage parameters → the keyword arguments of ``upgrade_packages.prepare``."""
    platform = (p.text(params, "Platform", required=True, max_len=16) or "").strip().lower()
    if platform not in _PLATFORMS_IN:
        raise ValidationError("Platform", "must be Android or iOS")
    enterprise = p.integer(params, "IsEnterprise", low=0, high=1)
    valid_days = p.integer(params, "ValidDays", low=0, high=100_000)
    tester_limit = p.integer(params, "InstallAmount", low=0, high=100_000_000)
    if platform == "android":
        if enterprise:
            raise ValidationError("IsEnterprise", "only iOS packages are Enterprise packages")
        distribution = "apk"
    elif enterprise:
        distribution = "enterprise"
    elif valid_days is not None or tester_limit is not None:
        distribution = "testFlight"
    else:
        distribution = "appStore"
    spec: dict[str, Any] = {
        "platform": platform,
        "distribution": distribution,
        "version": p.text(params, "AppVersion", required=True, max_len=64),
        "description": p.text(params, "Desc", max_len=4000),
        "store_url": p.text(params, "AppstoreUrl", max_len=2048) or None,
        "valid_days": valid_days,
        "tester_limit": tester_limit,
        "bundle_id": p.text(params, "BundleId", max_len=256) or None,
    }
    return {k: v for k, v in spec.items() if v is not None}


def _file_key(tenant: TenantId, params: dict[str, str], name: str) -> str | None:
    from chalicelib.services import file_tokens

    url = p.text(params, name, max_len=2048)
    return file_tokens.s3_key(file_tokens.resolve(tenant, url, field=name)) if url else None


def _package_file_key(tenant: TenantId, params: dict[str, str]) -> str | None:
    """``FileUrl``; or ``DownloadUrl`` when it names a file uploaded here (MDS serves package files
    itself and keeps no link to a file somewhere else)."""
    if p.text(params, "FileUrl", max_len=2048):
        return _file_key(tenant, params, "FileUrl")
    if p.text(params, "DownloadUrl", max_len=2048):
        return _file_key(tenant, params, "DownloadUrl")
    return None


@action("CreateMcubeUpgradePackage", result_key="ResultContent", permission=Permission.RELEASE)
def create_package(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import package_files

    spec = package_spec(params)
    files = {
        "package_key": _package_file_key(tenant, params),
        "icon_key": _file_key(tenant, params, "IconFileUrl"),
        "symbols_key": _file_key(tenant, params, "IosSymbolfileUrl"),
    }
    with p.wire_errors(_PACKAGE_FIELDS):
        created = package_files.create_with_files(call, tenant, spec, **files)
    return {**p.std(call), "Data": str(created["packageId"])}


def package_out(tenant: TenantId, pkg: dict[str, Any]) -> dict[str, Any]:
    """One package view → the ``UpgradeBaseInfoDO`` / ``Packages`` item."""
    detected = pkg.get("detected") or {}
    file = pkg.get("file") or {}
    inner = str(detected.get("versionCode") or detected.get("buildVersion") or "")
    created, modified = p.gmt(pkg.get("createdAt")), p.gmt(pkg.get("updatedAt") or pkg.get("createdAt"))
    status = str(pkg.get("status") or "")
    usable = pkg.get("fileStatus") in ("ready", "none")
    return {
        "Id": p.id_out(pkg.get("packageId")),
        "AllowCreateTask": bool(usable and len(pkg.get("liveTaskIds") or []) < 10),
        "AppCode": p.app_code(tenant),
        "AppstoreUrl": str(pkg.get("storeUrl") or ""),
        "BackLog": "",
        "ChangeLog": str(pkg.get("description") or ""),
        "ClientFileSize": int(file.get("size") or 0),
        "ClientName": str(file.get("filename") or ""),
        "CpId": "",
        "Creator": str(pkg.get("createdBy") or ""),
        "Modifier": str(pkg.get("createdBy") or ""),
        "DownloadUrl": str(pkg.get("downloadUrl") or ""),
        "QrcodeUrl": str(pkg.get("downloadUrl") or ""),
        "GlobalVariables": "",
        "GmtCreate": created,
        "GmtCreateStr": created,
        "GmtModified": modified,
        "GmtModifiedStr": modified,
        "InnerVersion": inner,
        "VersionCode": inner,
        "IosSymbol": str((pkg.get("symbols") or {}).get("filename") or ""),
        "IsEnterprise": 1 if pkg.get("distribution") == "enterprise" else 0,
        "IsRc": 0,
        "IsRelease": 1 if status in ("grayRelease", "officialRelease") else 0,
        "MaxVersion": "",
        "Md5": str(file.get("md5") or ""),
        "NeedCheck": 1 if pkg.get("verificationRequired") else 0,
        "OssPath": "",
        "PackageType": str(pkg.get("distribution") or ""),
        "Platform": p.platform_out(pkg.get("platform")),
        "ProductId": p.app_code(tenant),
        "ProductName": str(detected.get("package") or detected.get("app") or ""),
        "ProductVersion": str(pkg.get("version") or ""),
        "PublishPeriod": p.PUBLISH_PERIODS.get(status, 0),
        "ReleaseType": status,
        "ReleaseWindow": "",
        "ScmDownloadUrl": "",
        "ServerVersion": 0,
        "VerificationCode": "",  # kept as a keyed digest, never shown again
        "VerifyResult": 1 if pkg.get("fileStatus") == "ready" else 0,
    }


def _testflight_out(pkg: dict[str, Any]) -> dict[str, Any] | None:
    if pkg.get("distribution") != "testFlight":
        return None
    from datetime import datetime, timedelta

    created = str(pkg.get("createdAt") or "")
    invalid = ""
    if created and pkg.get("validDays"):
        start = datetime.fromisoformat(created.replace("Z", "+00:00"))
        invalid = p.gmt((start + timedelta(days=int(pkg["validDays"]))).isoformat())
    return {
        "Id": p.id_out(pkg.get("packageId")),
        "UpgradeId": p.id_out(pkg.get("packageId")),
        "InstallAmount": int(pkg.get("testerLimit") or 0),
        "InvalidTime": invalid,
        "GmtCreate": p.gmt(pkg.get("createdAt")),
        "GmtModified": p.gmt(pkg.get("updatedAt") or pkg.get("createdAt")),
    }


@action("GetMcubeUpgradePackageInfo", result_key="GetPackageResult", permission=Permission.READ)
def get_package(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import upgrade_packages

    package_id = p.ident(params, "PackageId")
    with p.wire_errors(_PACKAGE_FIELDS):
        pkg = upgrade_packages.get(call, tenant, package_id)
    info: dict[str, Any] = {"UpgradeBaseInfoDO": package_out(tenant, pkg)}
    testflight = _testflight_out(pkg)
    if testflight is not None:
        info["MobileTestFlightConfigDO"] = testflight
    return {**p.std(call), "PackageInfo": info}


@action("ListMcubeUpgradePackages", result_key="ListPackagesResult", permission=Permission.READ)
def list_packages(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import upgrade_packages

    number, size = p.page(params)
    found = upgrade_packages.list_all(call, tenant)  # newest first
    shown = found[(number - 1) * size : number * size]
    return {
        **p.paged(call, len(found), number, size),
        "Packages": [package_out(tenant, pkg) for pkg in shown],
    }


@action("DeleteMcubeUpgradeResource", result_key="DeleteResult", permission=Permission.RELEASE)
def delete_package(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import upgrade_packages

    package_id = p.ident(params, "Id")
    platform = (p.text(params, "Platform", max_len=16) or "").strip().lower()
    with p.wire_errors({**_PACKAGE_FIELDS, "packageId": "Id"}):
        if platform:
            shown = upgrade_packages.get(call, tenant, package_id)
            if shown["platform"] != platform:
                raise ValidationError(
                    "Platform", f"package {package_id} is a {p.platform_out(shown['platform'])} package"
                )
        upgrade_packages.delete(call, tenant, package_id)
    return p.std(call)


# -------------------------------------------------------------------------------------------- tasks


def task_input(params: dict[str, str], call: Call) -> tuple[str, Any]:
    """CreateMcubeUpgradeTask parameters → ``(package id, TaskInput)``."""
    from chalicelib.domain.upgrade import TaskInput

    package_id = p.ident(params, "PackageInfoId")
    target = p.release_target(params, call.now, within=None)
    mode = p.integer(params, "UpgradeType", required=True, low=0, high=999)
    if p.integer(params, "HistoryForce", low=0, high=1):
        raise ValidationError(
            "HistoryForce",
            "MDS has one upgrade mode per task; to force older clients, create a forced task "
            "(UpgradeType 206)",
        )
    return package_id, TaskInput(
        release_type=target["type"],
        mode=mode,
        gray_model=target.get("grayModel"),
        whitelist_ids=target.get("whitelistIds"),
        end_time=target.get("endTime"),
        users_count=target.get("usersCount"),
        rules=target.get("rules"),
        guide_memo=p.text(params, "UpgradeContent", max_len=4000),
        description=p.text(params, "Memo", max_len=4000),
    )


@action("CreateMcubeUpgradeTask", result_key="CreateTaskResult", permission=Permission.RELEASE)
def create_task(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import upgrade_tasks

    package_id, data = task_input(params, call)
    with p.wire_errors(_TASK_FIELDS):
        created = upgrade_tasks.create(call, tenant, package_id, data)
    return {**p.std(call), "upgradeTaskId": str(created["taskId"])}  # sic: the model reads lower camel


def _rule_values(rules: list[dict[str, Any]], element: str, operation: int) -> str:
    ours = {v: k for k, v in RULE_ELEMENTS.items()}.get(element, element)
    return ",".join(
        ",".join(str(v) for v in r.get("values") or [])
        for r in rules
        if r.get("type") == ours and int(r.get("operation", 1)) == operation
    )


def task_fields(tenant: TenantId, t: dict[str, Any], pkg: dict[str, Any] | None) -> dict[str, Any]:
    """Every field any upgrade-task model reads, from a task view and its package view; each action
    answers the subset its model declares (``_LIST_KEYS``, ``_INFO_KEYS``, ``_DETAIL_KEYS``)."""
    pkg = pkg or {}
    rules = t.get("rules") or []
    official = t.get("type") == "official"
    mode = p.PUBLISH_MODE_FULL if official else p.PUBLISH_MODE_CODES.get(str(t.get("grayModel")), 0)
    end = p.gmt(t.get("endTime"))
    created, modified = p.gmt(t.get("createdAt")), p.gmt(t.get("updatedAt") or t.get("createdAt"))
    claimed = int(t.get("claimed") or 0)
    versions = t.get("clientVersions") or []
    silent = t.get("silentPeriodDays")
    detected = pkg.get("detected") or {}
    inner = str(detected.get("versionCode") or detected.get("buildVersion") or "")
    status = str(t.get("status") or "")
    return {
        "Id": p.id_out(t.get("taskId")),
        "PackageInfoId": p.id_out(t.get("packageId")),
        "AppCode": p.app_code(tenant),
        "AppId": tenant.app_id,
        "WorkspaceId": tenant.workspace_id,
        "ProductId": p.app_code(tenant),
        "ProductVersion": str(pkg.get("version") or ""),
        "InnerVersion": inner,
        "Platform": p.platform_out(pkg.get("platform")),
        "PackageType": str(pkg.get("distribution") or ""),
        "IsEnterprise": 1 if pkg.get("distribution") == "enterprise" else 0,
        "AppstoreUrl": str(pkg.get("storeUrl") or ""),
        "Appstoreurl": str(pkg.get("storeUrl") or ""),  # sic: QueryMdsUpgradeTaskDetail's spelling
        "DownloadUrl": str(pkg.get("downloadUrl") or ""),
        "QrcodeUrl": str(pkg.get("downloadUrl") or ""),
        "PublishType": p.PUBLISH_TYPE_CODES.get(str(t.get("type")), 3),
        "PublishMode": mode,
        "IsOfficial": 1 if official else 0,
        "IsRelease": 1 if status == "running" else 0,
        "IsRc": 0,
        "IsPush": 0,
        "ReleaseType": str(t.get("type") or ""),
        "TaskStatus": p.TASK_STATUS_CODES.get(status, 0),
        "UpgradeType": int(t.get("resultStatus") or 0),
        "UpgradeContent": str(t.get("guideMemo") or ""),
        "PushContent": str(t.get("guideMemo") or ""),
        "Memo": str(t.get("description") or ""),
        "HistoryForce": 0,
        "SilentType": 1 if silent else 0,
        "UpgradeValidTime": int(silent or 0),
        "ReminderPeriod": str(silent or ""),
        "NetType": str(t.get("needClientNetType") or ""),
        "OsVersion": _rule_values(rules, "osVersion", 3),
        "MaxVersion": str((versions[0] if versions else {}).get("max") or ""),
        "WhitelistIds": ",".join(str(w) for w in t.get("whitelistIds") or []),
        "GreyConfigInfo": rules_to_wire(rules),
        "GreyEndtime": end,
        "GreyEndtimeData": end,
        "RealGreyEndtime": end,
        "RealGreyEndtimeStr": end,
        "RealGreyEndtype": 0,
        "GreyNum": int(t.get("usersCount") or 0),
        "DeviceGreyNum": int(t.get("usersCount") or 0),
        "GreyUv": claimed,
        "RealGreyNum": claimed,
        "RealGreyUv": claimed,
        "GreyNotice": 0,
        "GreyPausePoint": 0,
        "GreyPauseType": 0,
        "DevicePercent": 0,
        "ExecutionOrder": 0,
        "HuobanNoticeId": "",
        "HuobanUrl": "",
        "SyncMode": "",
        "SyncResult": "",
        "CityContains": _rule_values(rules, "city", 1),
        "CityExcludes": _rule_values(rules, "city", 2),
        "MobileModelContains": _rule_values(rules, "mobileModel", 1),
        "MobileModelExcludes": _rule_values(rules, "mobileModel", 2),
        "ChannelContains": "",
        "ChannelExcludes": "",
        "Creator": str(t.get("createdBy") or ""),
        "Creater": str(t.get("createdBy") or ""),  # sic: GetMcubeUpgradeTaskInfo reads both
        "Modifier": str(t.get("createdBy") or ""),
        "GmtCreate": created,
        "GmtCreateStr": created,
        "GmtModified": modified,
        "GmtModifiedStr": modified,
        "RuleJsonList": rule_json_list(rules),
    }


_LIST_KEYS = (
    "AppCode Creator DevicePercent ExecutionOrder GmtCreate GmtCreateStr GmtModified GmtModifiedStr "
    "GreyConfigInfo GreyEndtime GreyNotice GreyNum GreyPausePoint GreyPauseType GreyUv HistoryForce "
    "HuobanNoticeId HuobanUrl Id InnerVersion IsEnterprise IsOfficial IsPush IsRelease MaxVersion Memo "
    "Modifier PackageInfoId Platform ProductId ProductVersion PublishMode PublishType PushContent "
    "RealGreyEndtime RealGreyEndtimeStr RealGreyEndtype RealGreyNum RealGreyUv SilentType SyncResult "
    "TaskStatus UpgradeContent UpgradeType UpgradeValidTime WhitelistIds"
).split()
_INFO_KEYS = (
    "RuleJsonList Whitelist AppCode AppId AppstoreUrl Creater Creator DownloadUrl GreyConfigInfo "
    "GreyEndtimeData GreyNum HistoryForce Id IsEnterprise IsOfficial IsRc IsRelease Memo Modifier NetType "
    "OsVersion PackageInfoId PackageType Platform ProductId PublishMode PublishType PushContent QrcodeUrl "
    "SilentType TaskStatus UpgradeContent UpgradeType UpgradeValidTime WhitelistIds WorkspaceId"
).split()
_DETAIL_KEYS = (
    "RuleJsonList Whitelist AppCode AppId Appstoreurl ChannelContains ChannelExcludes CityContains "
    "CityExcludes Creator DeviceGreyNum DevicePercent DownloadUrl ExecutionOrder GmtCreateStr GreyConfigInfo "
    "GreyEndtimeData GreyNotice GreyNum GreyUv Id InnerVersion IsEnterprise IsOfficial IsPush IsRc IsRelease "
    "Memo MobileModelContains MobileModelExcludes Modifier NetType OsVersion PackageInfoId PackageType "
    "Platform ProductId ProductVersion PublishMode PublishType PushContent QrcodeUrl ReleaseType "
    "ReminderPeriod SilentType SyncMode SyncResult TaskStatus UpgradeContent UpgradeType UpgradeValidTime "
    "WhitelistIds"
).split()


def _task_and_package(call: Call, tenant: TenantId, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from chalicelib.services import upgrade_packages, upgrade_tasks

    with p.wire_errors(_TASK_FIELDS):
        task = upgrade_tasks.get(call, tenant, task_id)
    return task, upgrade_packages.get(call, tenant, str(task["packageId"]))


def _detail(call: Call, tenant: TenantId, params: dict[str, str], keys: list[str]) -> dict[str, Any]:
    task, pkg = _task_and_package(call, tenant, p.ident(params, "TaskId"))
    fields = task_fields(tenant, task, pkg)
    fields["Whitelist"] = task_whitelists(
        call, tenant, task.get("whitelistIds") or [], platform=fields["Platform"]
    )
    return {k: fields[k] for k in keys}


@action("GetMcubeUpgradeTaskInfo", result_key="GetTaskResult", permission=Permission.READ)
def get_task_info(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    return {**p.std(call), "TaskInfo": _detail(call, tenant, params, _INFO_KEYS)}


@action(
    "QueryMdsUpgradeTaskDetail", result_key="ResultContent", permission=Permission.READ, status_key="Data"
)
def query_task_detail(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    content = _detail(call, tenant, params, _DETAIL_KEYS)
    return {"RequestId": call.request_id, "Data": {**p.std(call), "Content": content}}


@action("ListMcubeUpgradeTasks", result_key="ListTaskResult", permission=Permission.READ)
def list_tasks(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import upgrade_packages, upgrade_tasks

    package_id = p.ident(params, "PackageId")
    with p.wire_errors(_PACKAGE_FIELDS):
        pkg = upgrade_packages.get(call, tenant, package_id)
    tasks = upgrade_tasks.list_all(call, tenant, package_id=package_id)
    shown = []
    for task in tasks:
        if task.get("endTime") is not None:  # claimed counts: the list view leaves them out
            task = upgrade_tasks.get(call, tenant, str(task["taskId"]))
        fields = task_fields(tenant, task, pkg)
        shown.append({k: fields[k] for k in _LIST_KEYS})
    return {**p.std(call), "TaskInfo": shown}


@action("ChangeMcubePublicTaskStatus", result_key="ResultContent", permission=Permission.RELEASE)
def change_task_status(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    """``TaskStatus`` 3 pause, 1 resume, 2 end; ``Data`` is the task's status code after the move."""
    from chalicelib.services import upgrade_tasks

    task_id = p.ident(params, "TaskId")
    move = p.status_action(params)
    with p.wire_errors(_TASK_FIELDS):
        changed = upgrade_tasks.change_status(call, tenant, task_id, action=move)
    return {**p.std(call), "Data": str(p.TASK_STATUS_CODES.get(str(changed["status"]), 0))}
