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
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.api.openapi import action
from chalicelib.domain.access import Permission
from chalicelib.domain.errors import MissingParameter, ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.services.context import Call

# -------------------------------------------------------------------------------------- enums, names

RESOURCE_TYPES = {0: "global", 1: "normal"}
RESOURCE_TYPE_CODES = {v: k for k, v in RESOURCE_TYPES.items()}
PUBLISH_TYPES = {2: "gray", 3: "official"}
PUBLISH_TYPE_CODES = {v: k for k, v in PUBLISH_TYPES.items()}
PUBLISH_MODES = {1: "whitelist", 2: "time_window"}
PUBLISH_MODE_CODES = {v: k for k, v in PUBLISH_MODES.items()}
PUBLISH_MODE_FULL = 4
TASK_STATUS_CODES = {"running": 1, "ended": 2, "paused": 3}
STATUS_ACTIONS = {3: "pause", 1: "resume", 2: "end"}
PLATFORM_OUT = {"all": "all", "android": "Android", "ios": "iOS"}
RULE_ELEMENTS = {"city": "city", "model": "mobileModel", "network": "netType", "osVersion": "osVersion"}
RULE_OPERATORS = {1: "contains", 2: "excludes", 3: "vLimitIn", 4: "vLimitOut"}
RULE_OPERATOR_CODES = {v.lower(): k for k, v in RULE_OPERATORS.items()}
GREY_WINDOW = timedelta(days=7)
MAX_PAGE_SIZE = 100
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
    head = re.split(r"[.\[]", field, maxsplit=1)[0]
    mapping = {**_WIRE_FIELDS, **_TASK_FIELDS} if task else _WIRE_FIELDS
    return mapping[head] + field[len(head) :] if head in mapping else field


@contextmanager
def _wire_errors(*, task: bool = False) -> Iterator[None]:
    try:
        yield
    except ValidationError as exc:
        renamed = wire_field(exc.field or "", task=task)
        if renamed == exc.field:
            raise
        again = ValidationError(renamed, exc.rule)
        again.CODE = exc.CODE  # keep MissingParameter vs InvalidParameter
        raise again from None


# ------------------------------------------------------------------------------------ parameter parsing


def _text(params: dict[str, str], name: str, *, required: bool = False, max_len: int = 1024) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise MissingParameter(name)
        return None if value is None else ""
    if len(value) > max_len:
        raise ValidationError(name, f"must be at most {max_len} characters")
    return value


def _int(
    params: dict[str, str], name: str, *, required: bool = False, low: int = 0, high: int = 2**53
) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        if required:
            raise MissingParameter(name)
        return None
    if not re.fullmatch(r"-?\d{1,16}", value):
        raise ValidationError(name, "must be an integer")
    number = int(value)
    if not low <= number <= high:
        raise ValidationError(name, f"must be from {low} to {high}")
    return number


def _page(params: dict[str, str]) -> tuple[int, int]:
    page = _int(params, "PageNum", low=1, high=1_000_000) or 1
    size = _int(params, "PageSize", low=1, high=MAX_PAGE_SIZE) or 20
    return page, size


def _h5_id(params: dict[str, str]) -> str:
    # format and reserved IDs are the service's rules (domain.h5.check_h5_id); only presence here
    return _text(params, "H5Id", required=True, max_len=64) or ""


def _id_out(value: Any) -> int:
    """Our numeric-text IDs as the JSON integers the SDK models declare (0 when not numeric)."""
    text = str(value if value is not None else "")
    return int(text) if text.isdigit() else 0


def _gmt(value: Any) -> str:
    """Our timestamps (ISO-8601 text or epoch seconds) as mPaaS writes them: ``YYYY-MM-DD hh:mm:ss`` UTC."""
    if value is None or value == "":
        return ""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, UTC)
        else:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        return str(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _millis(value: Any) -> int:
    text = _gmt(value)
    if not text:
        return 0
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp() * 1000)


def _app_code(tenant: TenantId) -> str:
    return f"{tenant.app_id}-{tenant.workspace_id}"


def _std(call: Call) -> dict[str, Any]:
    return {"ErrorCode": "", "RequestId": call.request_id}


def _paged(call: Call, found: dict[str, Any], page: int, size: int) -> dict[str, Any]:
    """The wire's paging fields of a console page (``services``' ``{"items", "total", ...}``)."""
    total = int(found.get("total") or 0)
    return {
        **_std(call),
        "CurrentPage": page,
        "PageSize": size,
        "TotalCount": total,
        "HasMore": page * size < total,
    }


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------- GreyConfigInfo rules


def rules_from_wire(text: str | None) -> list[dict[str, Any]] | None:
    """mPaaS ``GreyConfigInfo`` → our rules (``{"type", "operation", "values"}``), or None when empty.

    Accepts the request form (a list of ``{"ruleElement", "operation", "value"[, "value1", "value2"]}``)
    and the form tasks are listed with (``{"subRules": [{"operator", "left", "right"}]}``), so a listed
    task's rules can be sent back as they are.

    Raises:
        ValidationError: naming ``GreyConfigInfo`` (with the rule's index).
    """
    if text is None or not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ValidationError("GreyConfigInfo", "must be JSON: a list of rules") from None
    if isinstance(data, dict) and "subRules" in data:
        return [
            _sub_rule(r, f"GreyConfigInfo.subRules[{i}]") for i, r in enumerate(_rule_list(data["subRules"]))
        ]
    return [_rule(r, f"GreyConfigInfo[{i}]") for i, r in enumerate(_rule_list(data))]


def _rule_list(data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise ValidationError("GreyConfigInfo", "must be a JSON list of rules")
    if len(data) > 20:
        raise ValidationError("GreyConfigInfo", "must have at most 20 rules")
    return data


def _rule(data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(path, 'must be an object {"ruleElement", "operation", "value"}')
    lowered = {str(k).lower(): v for k, v in data.items()}
    element = lowered.get("ruleelement")
    if not element:
        raise MissingParameter(path + ".ruleElement")
    operation = lowered.get("operation")
    if operation in (None, ""):
        raise MissingParameter(path + ".operation")
    try:
        operation = int(operation)
    except (TypeError, ValueError):
        raise ValidationError(path + ".operation", "must be 1, 2, 3 or 4") from None
    if operation in (3, 4) and lowered.get("value1") not in (None, "") and not lowered.get("value"):
        values = [f"{lowered.get('value1') or ''}-{lowered.get('value2') or ''}"]
    else:
        raw = lowered.get("value")
        if isinstance(raw, list):
            values = [str(v).strip() for v in raw]
        else:
            values = [v.strip() for v in str(raw or "").split(",") if v.strip()]
    return {"type": str(element), "operation": operation, "values": values}


def _sub_rule(data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError(path, 'must be an object {"operator", "left", "right"}')
    operation = RULE_OPERATOR_CODES.get(str(data.get("operator", "")).lower())
    if operation is None:
        raise ValidationError(path + ".operator", "must be contains, excludes, vLimitIn or vLimitOut")
    left = data.get("left")
    if isinstance(left, dict):
        values = [f"{left.get('lower') or ''}-{left.get('upper') or ''}"]
    elif isinstance(left, list):
        values = [str(v).strip() for v in left]
    else:
        raise ValidationError(path + ".left", "must be a list of values or {lower, upper}")
    return {"type": str(data.get("right", "")), "operation": operation, "values": values}


def _rule_values(rule: dict[str, Any]) -> list[str]:
    if rule.get("ranges"):
        return [
            f"{r.get('min') or ''}-{r.get('max') or ''}" if isinstance(r, dict) else str(r)
            for r in rule["ranges"]
        ]
    return [str(v) for v in rule.get("values") or []]


def rules_to_wire(rules: list[dict[str, Any]] | None) -> str:
    """Our rules → the ``GreyConfigInfo`` text mPaaS lists tasks with (``operator``/``subRules``)."""
    if not rules:
        return ""
    sub_rules = []
    for rule in rules:
        operation = int(rule.get("operation", 1))
        values = _rule_values(rule)
        if operation in (3, 4) and values:
            low, _, high = values[0].partition("-")
            left: Any = {"lower": low, "upper": high}
        else:
            left = values
        sub_rules.append(
            {
                "operator": RULE_OPERATORS.get(operation, "contains"),
                "left": left,
                "right": RULE_ELEMENTS.get(str(rule.get("type")), str(rule.get("type"))),
                "defaultResult": False,
            }
        )
    return json.dumps(
        {"operator": "and", "defaultResult": True, "subRules": sub_rules},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def rule_json_list(rules: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """Our rules → ``RuleJsonList`` items (task detail)."""
    out = []
    for rule in rules or []:
        element = RULE_ELEMENTS.get(str(rule.get("type")), str(rule.get("type")))
        out.append(
            {
                "RuleElement": element,
                "Operation": str(int(rule.get("operation", 1))),
                "Value": ",".join(_rule_values(rule)),
                "RuleType": element,
            }
        )
    return out


# ------------------------------------------------------------------------------------------- views


def resource_out(tenant: TenantId, r: dict[str, Any]) -> dict[str, Any]:
    """One resource view → the ``NebulaResourceInfo`` object (types per §6)."""
    resource_type = RESOURCE_TYPE_CODES.get(str(r.get("resourceType") or "normal"), 1)
    return {
        "Id": _id_out(r.get("id")),
        "H5Id": str(r.get("h5Id") or ""),
        "H5Name": str(r.get("h5Name") or ""),
        "H5Version": str(r.get("version") or ""),
        "AppCode": _app_code(tenant),
        "Platform": PLATFORM_OUT.get(str(r.get("platform") or "all").lower(), str(r.get("platform"))),
        "ClientVersionMin": str(r.get("clientVersionMin") or ""),
        "ClientVersionMax": str(r.get("clientVersionMax") or ""),
        "AutoInstall": int(r.get("downloadNetwork") or 0),
        "InstallType": int(r.get("installType") or 0),
        "ResourceType": str(resource_type),
        "MainUrl": str(r.get("mainUrl") or ""),
        "Vhost": str(r.get("vhost") or ""),
        "ExtendInfo": _as_text(r.get("extendInfo")),
        "ExtraData": json.dumps({"resourceType": str(resource_type)}),
        "DownloadUrl": str(r.get("amrUrl") or ""),
        "DebugUrl": "",
        "FallbackBaseUrl": "",
        "FileSize": str(r.get("fileSize") if r.get("fileSize") is not None else ""),
        "Md5": str(r.get("md5") or ""),
        "Memo": str(r.get("h5JsonUrl") or ""),
        "MetaId": 0,
        "PackageType": 0,
        "LazyLoad": 0,
        "PublishPeriod": 0,
        "ReleaseVersion": "",
        "Status": 1 if r.get("status") == "ready" else 0,  # uploading / processing / failed: not usable
        "Creator": str(r.get("createdBy") or ""),
        "Modifier": str(r.get("updatedBy") or ""),
        "GmtCreate": _gmt(r.get("createdAt")),
        "GmtModified": _gmt(r.get("updatedAt") or r.get("createdAt")),
    }


def task_out(tenant: TenantId, t: dict[str, Any], *, platform: str = "all") -> dict[str, Any]:
    """One task view → the ``NebulaTaskInfo`` object (types per §6)."""
    gray = t.get("type") == "gray"
    mode = PUBLISH_MODE_CODES.get(str(t.get("grayModel")), 0) if gray else PUBLISH_MODE_FULL
    end = _gmt(t.get("endTime"))
    modified = _gmt(t.get("updatedAt") or t.get("createdAt"))
    return {
        "Id": _id_out(t.get("taskId")),
        "PackageId": _id_out(t.get("resourceId")),
        "TaskStatus": TASK_STATUS_CODES.get(str(t.get("status")), 0),
        "PublishType": PUBLISH_TYPE_CODES.get(str(t.get("type")), 3),
        "PublishMode": mode,
        "Status": 1,
        "TaskType": 0,
        "TaskVersion": _millis(t.get("createdAt")),
        "TaskName": str(t.get("name") or t.get("h5Id") or ""),
        "Memo": str(t.get("memo") or ""),
        "Platform": PLATFORM_OUT.get(platform.lower(), platform),
        "AppCode": _app_code(tenant),
        "BizType": "nebula",
        "ProductId": f"{_app_code(tenant)}-{t.get('h5Id') or ''}",
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
        "GmtCreate": _gmt(t.get("createdAt")),
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

    vhost = _text(params, "Vhost", required=True, max_len=253) or ""
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

    page, size = _page(params)
    keyword = _text(params, "Keyword", max_len=128) or ""
    with _wire_errors():
        found = h5_apps.list_apps(call, tenant, keyword=keyword, page=page, page_size=size)
    return {
        **_paged(call, found, page, size),
        "NebulaAppInfos": [
            {"H5Id": str(a.get("h5Id") or ""), "H5Name": str(a.get("name") or a.get("h5Name") or "")}
            for a in found.get("items") or []
        ],
    }


@action("CreateMcubeNebulaApp", result_key="CreateNebulaAppResult", permission=Permission.RELEASE)
def create_app(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_apps

    h5_id = _h5_id(params)
    name = _text(params, "H5Name", required=True, max_len=128) or ""
    with _wire_errors():
        h5_apps.create_app(call, tenant, h5_id=h5_id, name=name)
    return _std(call)


@action("DeleteMcubeNebulaApp", result_key="DeleteMcubeNebulaAppResult", permission=Permission.RELEASE)
def delete_app(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_apps

    h5_id = _text(params, "H5Id", required=True, max_len=64) or ""
    with _wire_errors():
        h5_apps.delete_app(call, tenant, h5_id)
    return _std(call)


# ------------------------------------------------------------------------------------------ resources


def resource_spec(params: dict[str, str]) -> dict[str, Any]:
    """The wire parameters of CreateMcubeNebulaResource → the H5 resource spec (keys the service takes).

    ``CustomDomainName``, ``SubUrl`` and ``OnexFlag`` are accepted and ignored.
    """
    spec: dict[str, Any] = {
        "h5Id": _h5_id(params),
        "h5Name": _text(params, "H5Name", max_len=128),
        "version": _text(params, "H5Version", required=True, max_len=64),
        "platform": (_text(params, "Platform", max_len=16) or "all").lower(),
        "clientVersionMin": _text(params, "ClientVersionMin", max_len=128),
        "clientVersionMax": _text(params, "ClientVersionMax", max_len=128),
        "mainUrl": _text(params, "MainUrl", max_len=512),
        "extendInfo": _text(params, "ExtendInfo", max_len=8192),
        "vhost": _text(params, "Vhost", max_len=253),
    }
    resource_type = _int(params, "ResourceType", low=0, high=1)
    if resource_type is not None:
        spec["resourceType"] = RESOURCE_TYPES[resource_type]
    for wire, ours in (
        ("AutoInstall", "downloadNetwork"),
        ("InstallType", "installType"),
        ("RepeatNebula", "repeatNebula"),
    ):
        value = _int(params, wire, low=0, high=1)
        if value is not None:
            spec[ours] = value
    if spec["platform"] not in PLATFORM_OUT:
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
    return {**_std(call), "NebulaResourceId": str(created.get("id") or "")}


@action("ListMcubeNebulaResources", result_key="ListMcubeNebulaResourceResult", permission=Permission.READ)
def list_resources(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_resources

    page, size = _page(params)
    h5_id = _text(params, "H5Id", required=True, max_len=64) or ""
    with _wire_errors():
        found = h5_resources.list_resources(call, tenant, h5_id=h5_id, page=page, page_size=size)
    return {
        **_paged(call, found, page, size),
        "NebulaResourceInfo": [resource_out(tenant, r) for r in found.get("items") or []],
    }


@action("GetMcubeNebulaResource", result_key="GetNebulaResourceResult", permission=Permission.READ)
def get_resource(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    """Not one of the 14 of the brief, but the spec's "related" action: one resource by ``Id``."""
    from chalicelib.services import h5_resources

    resource_id = str(_int(params, "Id", required=True, low=1))
    with _wire_errors():
        found = h5_resources.get_resource(call, tenant, resource_id)
    return {**_std(call), "NebulaResourceInfo": resource_out(tenant, found)}


# ---------------------------------------------------------------------------------------------- tasks


def _grey_end(params: dict[str, str], now: datetime) -> int | None:
    text = _text(params, "GreyEndtimeData", max_len=32)
    if not text:
        return None
    try:
        moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError("GreyEndtimeData", "must be a time YYYY-MM-DD hh:mm:ss (UTC)") from None
    if moment <= now:
        raise ValidationError("GreyEndtimeData", "must be in the future")
    if moment > now + GREY_WINDOW:
        raise ValidationError("GreyEndtimeData", "must be within 7 days from now")
    return int(moment.timestamp())


def task_data(params: dict[str, str], now: datetime) -> tuple[str, dict[str, Any]]:
    """CreateMcubeNebulaTask parameters → ``(resource id, task data for h5_tasks.create_task)``.

    ``Platform`` (the package's platform applies) and the pass-through fields listed in the spec
    (``AppCode``, ``BizType``, ``Percent``…) are accepted and ignored.
    """
    task_id = _int(params, "Id", low=0, high=2**53)
    if task_id:
        raise ValidationError("Id", "must be 0 or omitted: this action creates a task")
    package_id = _int(params, "PackageId", required=True, low=1)
    res_ids = [r.strip() for r in (_text(params, "ResIds", max_len=256) or "").split(",") if r.strip()]
    if res_ids and res_ids != [str(package_id)]:
        raise ValidationError("ResIds", "must be the PackageId: one package per task")
    publish_type = _int(params, "PublishType", required=True, low=0, high=9)
    if publish_type not in PUBLISH_TYPES:
        raise ValidationError("PublishType", "must be 2 (grey) or 3 (official)")
    data: dict[str, Any] = {"type": PUBLISH_TYPES[publish_type]}
    if publish_type == 2:
        mode = _int(params, "PublishMode", required=True, low=0, high=9)
        if mode not in PUBLISH_MODES:
            raise ValidationError("PublishMode", "must be 1 (whitelist) or 2 (time window) for a grey task")
        data["grayModel"] = PUBLISH_MODES[mode]
        if mode == 1:
            ids = [
                w.strip() for w in (_text(params, "WhitelistIds", max_len=1024) or "").split(",") if w.strip()
            ]
            if not ids:
                raise MissingParameter("WhitelistIds")
            data["whitelistIds"] = ids
        else:
            end = _grey_end(params, now)
            if end is None:
                raise MissingParameter("GreyEndtimeData")
            data["endTime"] = end
            data["usersCount"] = _int(params, "GreyNum", required=True, low=1, high=10_000_000)
    rules = rules_from_wire(params.get("GreyConfigInfo"))
    if rules:
        data["rules"] = rules
    for wire, ours, limit in (("Memo", "memo", 2000), ("TaskName", "name", 128)):
        value = _text(params, wire, max_len=limit)
        if value:
            data[ours] = value
    return str(package_id), data


@action("CreateMcubeNebulaTask", result_key="CreateMcubeNebulaTaskResult", permission=Permission.RELEASE)
def create_task(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    resource_id, data = task_data(params, call.now)
    with _wire_errors(task=True):
        created = h5_tasks.create_task(call, tenant, resource_id, data)
    return {**_std(call), "NebulaTaskId": str(created.get("taskId") or "")}


@action("ListMcubeNebulaTasks", result_key="ListMcubeNebulaTaskResult", permission=Permission.READ)
def list_tasks(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    resource_id = str(_int(params, "Id", required=True, low=1))
    resource = _resource_or_none(call, tenant, resource_id)
    platform = str((resource or {}).get("platform") or "all")
    with _wire_errors(task=True):
        tasks = h5_tasks.list_tasks(call, tenant, resource_id=resource_id)
    return {**_std(call), "NebulaTaskInfo": [task_out(tenant, t, platform=platform) for t in tasks]}


@action("GetMcubeNebulaTaskDetail", result_key="GetMcubeNebulaTaskDetailResult", permission=Permission.READ)
def get_task_detail(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    task_id = str(_int(params, "TaskId", required=True, low=1))
    with _wire_errors(task=True):
        task = h5_tasks.get_task(call, tenant, task_id)
    resource = _resource_or_none(call, tenant, task.get("resourceId"))
    return {**_std(call), "NebulaTaskDetail": task_detail_out(tenant, task, resource)}


@action(
    "ChangeMcubeNebulaTaskStatus",
    result_key="ChangeMcubeNebulaTaskStatusResult",
    permission=Permission.RELEASE,
)
def change_task_status(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    task_id = str(_int(params, "TaskId", required=True, low=1))
    status = _int(params, "TaskStatus", required=True, low=0, high=9)
    if status not in STATUS_ACTIONS:
        raise ValidationError("TaskStatus", "must be 3 (pause), 1 (resume) or 2 (end)")
    package_id = _int(params, "PackageId", low=0)
    with _wire_errors(task=True):
        if package_id:
            task = h5_tasks.get_task(call, tenant, task_id)
            if str(task.get("resourceId")) != str(package_id):
                raise ValidationError(
                    "PackageId", f"task {task_id} belongs to package {task.get('resourceId')}"
                )
        h5_tasks.change_status(call, tenant, task_id, STATUS_ACTIONS[status])
    return _std(call)
