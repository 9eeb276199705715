"""The H5 OpenAPI actions over real HTTP (the in-process app behind Chalice's local server, moto):
the exact wire shape of every result (PascalCase keys, JSON types, the misspelled result key, enums,
pagination), parameter errors named by their wire names, and the upload host of GetMcubeFileToken."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import requests

from tests.sdk_capture import no_proxy_env

# ----------------------------------------------------------------------------------------- helpers


def rpc(endpoint: str, creds: dict, action: str, **params) -> dict:
    """One ACS3-signed OpenAPI call; returns the parsed JSON (asserting HTTP 200)."""
    status, reply = rpc_raw(endpoint, creds, action, **params)
    assert status == 200, reply
    return reply


def rpc_raw(endpoint: str, creds: dict, action: str, **params) -> tuple[int, dict]:
    from chalicelib.security.acs_signature import sign_acs3

    fields = {"AppId": creds["appId"], "WorkspaceId": creds["workspaceId"], **params}
    body = urlencode(sorted((k, str(v)) for k, v in fields.items() if v is not None)).encode()
    headers = sign_acs3(
        "POST",
        endpoint,
        "/",
        {},
        {"content-type": "application/x-www-form-urlencoded"},
        body,
        creds["accessKeyId"],
        creds["accessKeySecret"],
        now=datetime.now(UTC),
        nonce=uuid.uuid4().hex,
        action=action,
        version="2020-10-28",
    )
    host, port = endpoint.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("POST", "/", body=body, headers=headers)
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())


def ok(reply: dict, key: str) -> dict:
    assert reply["ResultCode"] == "OK", reply
    assert isinstance(reply["RequestId"], str) and reply["ResultMessage"] == ""
    result = reply[key]
    assert result["Success"] is True and result["ResultMsg"] == ""
    return result


def refused(reply: dict, key: str) -> str:
    assert reply["ResultCode"] != "OK", reply
    assert reply[key]["Success"] is False and reply[key]["ResultMsg"] == reply["ResultMessage"]
    return reply["ResultMessage"]


def upload(token: dict, name: str, data: bytes, **extra) -> requests.Response:
    form = {
        "key": token["Dir"] + name,
        "OSSAccessKeyId": token["Accessid"],
        "policy": token["Policy"],
        "Signature": token["Signature"],
        **extra,
    }
    with no_proxy_env():
        return requests.post(token["Host"], data=form, files={"file": (name, data)}, timeout=60)


def file_token(endpoint, creds) -> dict:
    return ok(rpc(endpoint, creds, "GetMcubeFileToken", OnexFlag="True"), "GetFileTokenResult")["FileToken"]


@pytest.fixture
def api_base(http_endpoint, monkeypatch):
    """Tokens name this server as their Host (MDS_API_BASE_URL, as the local stack sets it)."""
    from chalicelib import config

    monkeypatch.setenv("MDS_API_BASE_URL", f"http://{http_endpoint}")
    config.reload()
    return http_endpoint


@pytest.fixture
def other_ws(admin, demo):
    """A second workspace of the same app with its own AccessKey."""
    from tests.conftest import ws_path

    created = admin.post(
        "/api/workspaces", {"appId": demo["appId"], "workspaceId": "second", "name": "Second"}
    )
    assert created.status in (200, 201), created.body
    key = admin.post(
        ws_path({"appId": demo["appId"], "workspaceId": "second"}, "/access-keys"), {"role": "admin"}
    ).body
    return {"appId": demo["appId"], "workspaceId": "second", **key}


# ----------------------------------------------------------------------------- file token + upload


def test_file_token_has_six_string_fields(api_base, demo):
    token = file_token(api_base, demo)
    assert sorted(token) == ["Accessid", "Dir", "Expire", "Host", "Policy", "Signature"]
    assert all(isinstance(v, str) and v for v in token.values())
    assert token["Host"] == f"http://{api_base}/mcube-files" and not token["Host"].endswith("/")
    assert token["Dir"].startswith(f"{demo['appId']}/{demo['workspaceId']}/") and token["Dir"].endswith("/")
    assert int(token["Expire"]) > datetime.now(UTC).timestamp()
    policy = json.loads(base64.b64decode(token["Policy"]))
    assert ["starts-with", "$key", token["Dir"]] in policy["conditions"]


def test_upload_stores_file_under_files_prefix(api_base, demo, aws):
    from chalicelib.config import settings
    from chalicelib.store.aws import client

    token = file_token(api_base, demo)
    reply = upload(token, "key.pem", b"hello")
    assert reply.status_code == 204, reply.text
    stored = client("s3").get_object(
        Bucket=settings().artifacts_bucket, Key="files/" + token["Dir"] + "key.pem"
    )
    assert stored["Body"].read() == b"hello"
    assert upload(token, "again.bin", b"x", success_action_status="200").json() == {
        "Key": token["Dir"] + "again.bin"
    }


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"Signature": base64.b64encode(b"x" * 20).decode()}, 403, "AccessDenied"),
        ({"OSSAccessKeyId": "someone"}, 403, "AccessDenied"),
        ({"key": "elsewhere/x.zip"}, 403, "AccessDenied"),
        ({"key": "DIR../x.zip"}, 400, "InvalidParameter"),
        ({"policy": ""}, 400, "InvalidParameter"),
    ],
)
def test_upload_refusals(api_base, demo, change, status, code):
    token = file_token(api_base, demo)
    form = {
        "key": token["Dir"] + "a.zip",
        "OSSAccessKeyId": token["Accessid"],
        "policy": token["Policy"],
        "Signature": token["Signature"],
    }
    form.update({k: v.replace("DIR", token["Dir"]) for k, v in change.items()})
    with no_proxy_env():
        reply = requests.post(token["Host"], data=form, files={"file": ("a.zip", b"PK")}, timeout=30)
    assert reply.status_code == status, reply.text
    assert reply.json()["Code"] == code


def test_upload_accepts_s3_field_names(api_base, demo):
    token = file_token(api_base, demo)
    form = {
        "key": token["Dir"] + "a.bin",
        "AWSAccessKeyId": token["Accessid"],
        "policy": token["Policy"],
        "signature": token["Signature"],
    }
    with no_proxy_env():
        reply = requests.post(token["Host"], data=form, files={"file": ("a.bin", b"1")}, timeout=30)
    assert reply.status_code == 204, reply.text


def test_expired_policy_is_refused(api_base, demo, monkeypatch):
    from chalicelib.domain.access import Principal, PrincipalKind
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import file_tokens
    from chalicelib.services.context import Call

    old = Call(
        principal=Principal(kind=PrincipalKind.USER, id="t", is_superuser=True),
        request_id="r",
        now=datetime.now(UTC) - timedelta(hours=2),
    )
    raw = file_tokens.issue(old, TenantId(demo["appId"], demo["workspaceId"]))
    token = {k.capitalize() if k != "accessid" else "Accessid": v for k, v in raw.items()}
    reply = upload(token, "late.zip", b"PK")
    assert reply.status_code == 403 and "expired" in reply.json()["Message"]


def test_big_multipart_body_is_stored_in_parts(api_base, demo, aws, tmp_path):
    """Over one S3 part (16 MiB): the multipart-upload path, byte for byte."""
    from chalicelib.config import settings
    from chalicelib.store import mcube_files
    from chalicelib.store.aws import client

    data = bytes(range(256)) * ((mcube_files.PART_BYTES + 3 * 1024 * 1024) // 256)
    token = file_token(api_base, demo)
    assert upload(token, "big.zip", data).status_code == 204
    head = client("s3").head_object(
        Bucket=settings().artifacts_bucket, Key="files/" + token["Dir"] + "big.zip"
    )
    assert head["ContentLength"] == len(data) and "-2" in head["ETag"]  # two parts


def test_file_url_of_another_workspace_is_refused(api_base, demo, other_ws):
    token = file_token(api_base, other_ws)
    assert upload(token, "key.pem", b"-----BEGIN RSA PRIVATE KEY-----").status_code == 204
    url = token["Host"] + "/" + token["Dir"] + "key.pem"
    reply = rpc(api_base, demo, "UploadMcubeRsaKey", FileUrl=url, OnexFlag="True")
    message = refused(reply, "UploadRsaResult")
    assert message.startswith("FileUrl:") and "another workspace" in message
    missing = rpc(
        api_base, demo, "UploadMcubeRsaKey", FileUrl=f"http://{api_base}/mcube-files/{demo['appId']}/x"
    )
    assert refused(missing, "UploadRsaResult").startswith("FileUrl:")


# ------------------------------------------------------------------------------------ vhost, RSA key


def test_vhost_set_and_query(api_base, demo):
    assert ok(rpc(api_base, demo, "QueryMcubeVhost"), "QueryVhostResult")["Data"] == ""
    created = ok(rpc(api_base, demo, "CreateMcubeVhost", Vhost="h5.example.com"), "CreateVhostResult")
    assert created["Data"] == "success"
    assert ok(rpc(api_base, demo, "QueryMcubeVhost"), "QueryVhostResult")["Data"] == "h5.example.com"
    bad = rpc(api_base, demo, "CreateMcubeVhost", Vhost="not a host")
    assert refused(bad, "CreateVhostResult").startswith("Vhost:")


def test_rsa_key_upload_and_exists(api_base, demo, rsa_pem):
    absent = rpc(api_base, demo, "ExistMcubeRsaKey")
    assert absent["ResultCode"] == "OK"
    assert absent["CheckRsaKeyResult"]["Success"] is False and absent["CheckRsaKeyResult"]["Data"] == "fail"
    token = file_token(api_base, demo)
    assert upload(token, "rsa.pem", rsa_pem).status_code == 204
    url = token["Host"] + "/" + token["Dir"] + "rsa.pem"
    assert ok(rpc(api_base, demo, "UploadMcubeRsaKey", FileUrl=url, OnexFlag="True"), "UploadRsaResult")[
        "Data"
    ]
    assert ok(rpc(api_base, demo, "ExistMcubeRsaKey"), "CheckRsaKeyResult")["Data"] == "success"

    token = file_token(api_base, demo)
    upload(token, "junk.pem", b"not a key")
    junk = rpc(api_base, demo, "UploadMcubeRsaKey", FileUrl=token["Host"] + "/" + token["Dir"] + "junk.pem")
    assert refused(junk, "UploadRsaResult").startswith("FileUrl:")


def test_wire_field_names():
    from chalicelib.api.openapi_h5 import wire_field

    assert wire_field("h5Id") == "H5Id"
    assert wire_field("version") == "H5Version"
    assert wire_field("downloadNetwork") == "AutoInstall"
    assert wire_field("rules[0].values[1]") == "GreyConfigInfo[0].values[1]"
    assert wire_field("endTime") == "GreyEndtimeData"
    assert wire_field("name") == "H5Name" and wire_field("name", task=True) == "TaskName"
    assert wire_field("somethingElse") == "somethingElse"


def test_grey_config_round_trip():
    from chalicelib.api.openapi_rules import rule_json_list, rules_from_wire, rules_to_wire

    sent = json.dumps(
        [
            {"ruleElement": "city", "operation": 1, "value": "Shanghai, Beijing"},
            {"ruleElement": "mobileModel", "operation": "2", "value": "REDMI NOTE 3"},
            {"ruleElement": "osVersion", "operation": 3, "value1": "9.0", "value2": "12.1", "value": ""},
        ]
    )
    ours = rules_from_wire(sent)
    assert ours == [
        {"type": "city", "operation": 1, "values": ["Shanghai", "Beijing"]},
        {"type": "mobileModel", "operation": 2, "values": ["REDMI NOTE 3"]},
        {"type": "osVersion", "operation": 3, "values": ["9.0-12.1"]},
    ]
    stored = [
        {"type": "city", "operation": 1, "values": ["Shanghai", "Beijing"]},
        {"type": "osVersion", "operation": 3, "ranges": [{"min": "9.0", "max": "12.1"}]},
    ]
    listed = json.loads(rules_to_wire(stored))
    assert listed["subRules"][0] == {
        "operator": "contains",
        "left": ["Shanghai", "Beijing"],
        "right": "city",
        "defaultResult": False,
    }
    assert listed["subRules"][1]["left"] == {"lower": "9.0", "upper": "12.1"}
    assert rules_from_wire(rules_to_wire(stored)) == [
        {"type": "city", "operation": 1, "values": ["Shanghai", "Beijing"]},
        {"type": "osVersion", "operation": 3, "values": ["9.0-12.1"]},
    ]
    assert rule_json_list(stored) == [
        {"RuleElement": "city", "Operation": "1", "Value": "Shanghai,Beijing", "RuleType": "city"},
        {"RuleElement": "osVersion", "Operation": "3", "Value": "9.0-12.1", "RuleType": "osVersion"},
    ]
    assert rules_from_wire("") is None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("{", "GreyConfigInfo"),
        ('{"a": 1}', "GreyConfigInfo"),
        ('[{"operation": 1, "value": "x"}]', "GreyConfigInfo[0].ruleElement"),
        ('[{"ruleElement": "city", "operation": "x", "value": "x"}]', "GreyConfigInfo[0].operation"),
    ],
)
def test_grey_config_errors_name_the_parameter(text, field):
    from chalicelib.api.openapi_rules import rules_from_wire
    from chalicelib.domain.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        rules_from_wire(text)
    assert err.value.field == field


# ------------------------------------------------------------------------- apps, resources, tasks

H5 = "12345678"


def _types(obj: dict, spec: dict) -> None:
    for name, kind in spec.items():
        assert name in obj, f"{name} missing"
        assert type(obj[name]) is kind, (
            f"{name}: {type(obj[name]).__name__} {obj[name]!r}, wanted {kind.__name__}"
        )


RESOURCE_TYPES = {
    **dict.fromkeys(
        "H5Id H5Name H5Version AppCode Platform ClientVersionMin ClientVersionMax ResourceType MainUrl Vhost "
        "ExtendInfo ExtraData DownloadUrl DebugUrl FallbackBaseUrl FileSize Md5 Memo ReleaseVersion Creator "
        "Modifier GmtCreate GmtModified".split(),
        str,
    ),
    **dict.fromkeys(
        "Id AutoInstall InstallType MetaId PackageType LazyLoad PublishPeriod Status".split(), int
    ),
}
TASK_TYPES = {
    **dict.fromkeys(
        "TaskName Memo Platform AppCode BizType ProductId ProductVersion ReleaseVersion WhitelistIds GreyConfigInfo "
        "GreyEndtime GreyEndtimeData GreyEndtimeStr GreyUrl SyncResult UpgradeProgress Creator Modifier GmtCreate "
        "GmtModified GmtModifiedStr".split(),
        str,
    ),
    **dict.fromkeys(
        "Id PackageId TaskStatus PublishType PublishMode Status TaskType TaskVersion GreyNum Percent "
        "UpgradeNoticeNum".split(),
        int,
    ),
}
DETAIL_TYPES = {
    **TASK_TYPES,
    **dict.fromkeys(
        "AppId WorkspaceId DownloadUrl ExtraData FileSize IssueDesc OssPath SourceId SourceName SourceType".split(),
        str,
    ),
    **dict.fromkeys(
        "Atomic BaseInfoId Cronexpress FullRepair PublishPeriod QuickRollback SyncType".split(), int
    ),
    "RuleJsonList": list,
}


def _zip_url(endpoint, creds, tmp_path, h5_id=H5, version="1") -> str:
    from tests import h5_zips

    path = h5_zips.normal(tmp_path / f"{h5_id}-{version}.zip", h5_id, version=version)
    token = file_token(endpoint, creds)
    assert upload(token, path.name, path.read_bytes()).status_code == 204
    return token["Host"] + "/" + token["Dir"] + path.name


def _resource(endpoint, creds, tmp_path, version="1.0.0.1", **extra) -> dict:
    params = {
        "H5Id": H5,
        "H5Name": "Shop",
        "H5Version": version,
        "FileUrl": _zip_url(endpoint, creds, tmp_path, version=version),
        "MainUrl": "/www/index.html",
        "Vhost": "h5.example.com",
        "ResourceType": "1",
        "Platform": "all",
        "ClientVersionMin": "1.0.0;1.0.0",
        "ClientVersionMax": "",
        "AutoInstall": "1",
        "InstallType": "0",
        "ExtendInfo": '{"launchParams": {"a": 1}}',
        "OnexFlag": "True",
        **extra,
    }
    return rpc(
        endpoint, creds, "CreateMcubeNebulaResource", **{k: v for k, v in params.items() if v is not None}
    )


@pytest.fixture
def h5_ready(api_base, demo, rsa_pem):
    """Vhost, RSA key and H5 app 12345678 in the demo workspace."""
    ok(rpc(api_base, demo, "CreateMcubeVhost", Vhost="h5.example.com"), "CreateVhostResult")
    token = file_token(api_base, demo)
    upload(token, "rsa.pem", rsa_pem)
    url = token["Host"] + "/" + token["Dir"] + "rsa.pem"
    ok(rpc(api_base, demo, "UploadMcubeRsaKey", FileUrl=url), "UploadRsaResult")
    ok(rpc(api_base, demo, "CreateMcubeNebulaApp", H5Id=H5, H5Name="Shop"), "CreateNebulaAppResult")
    return api_base


def test_apps_pagination_keyword_and_types(api_base, demo):
    for h5_id, name in (("10000001", "Alpha"), ("10000002", "Beta"), ("10000003", "Gamma")):
        result = ok(
            rpc(api_base, demo, "CreateMcubeNebulaApp", H5Id=h5_id, H5Name=name), "CreateNebulaAppResult"
        )
        assert result["ErrorCode"] == "" and isinstance(result["RequestId"], str)
    first = ok(
        rpc(api_base, demo, "ListMcubeNebulaApps", PageNum="1", PageSize="2"), "ListMcubeNebulaAppsResult"
    )
    _types(
        first,
        {"CurrentPage": int, "PageSize": int, "TotalCount": int, "HasMore": bool, "NebulaAppInfos": list},
    )
    assert (first["CurrentPage"], first["PageSize"], first["TotalCount"], first["HasMore"]) == (1, 2, 3, True)
    assert first["NebulaAppInfos"] == [
        {"H5Id": "10000001", "H5Name": "Alpha"},
        {"H5Id": "10000002", "H5Name": "Beta"},
    ]
    second = ok(
        rpc(api_base, demo, "ListMcubeNebulaApps", PageNum="2", PageSize="2"), "ListMcubeNebulaAppsResult"
    )
    assert second["HasMore"] is False and [a["H5Id"] for a in second["NebulaAppInfos"]] == ["10000003"]
    found = ok(rpc(api_base, demo, "ListMcubeNebulaApps", Keyword="gam"), "ListMcubeNebulaAppsResult")
    assert [a["H5Name"] for a in found["NebulaAppInfos"]] == ["Gamma"] and found["PageSize"] == 20

    ok(rpc(api_base, demo, "DeleteMcubeNebulaApp", H5Id="10000002"), "DeleteMcubeNebulaAppResult")
    left = ok(rpc(api_base, demo, "ListMcubeNebulaApps"), "ListMcubeNebulaAppsResult")
    assert [a["H5Id"] for a in left["NebulaAppInfos"]] == ["10000001", "10000003"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"H5Id": "20000196", "H5Name": "x"}, "H5Id"),
        ({"H5Id": "1234", "H5Name": "x"}, "H5Id"),
        ({"H5Name": "x"}, "H5Id"),
        ({"H5Id": "12345670"}, "H5Name"),
    ],
)
def test_create_app_errors_name_the_parameter(api_base, demo, params, field):
    message = refused(rpc(api_base, demo, "CreateMcubeNebulaApp", **params), "CreateNebulaAppResult")
    assert message.startswith(field + ":"), message


def test_duplicate_app_and_bad_page(api_base, demo):
    ok(rpc(api_base, demo, "CreateMcubeNebulaApp", H5Id="12345670", H5Name="x"), "CreateNebulaAppResult")
    again = rpc(api_base, demo, "CreateMcubeNebulaApp", H5Id="12345670", H5Name="x")
    assert again["ResultCode"] == "Conflict" and again["CreateNebulaAppResult"]["ErrorCode"] == "Conflict"
    bad = rpc(api_base, demo, "ListMcubeNebulaApps", PageSize="1000")
    assert refused(bad, "ListMcubeNebulaAppsResult").startswith("PageSize:")
    bad = rpc(api_base, demo, "ListMcubeNebulaApps", PageNum="x")
    assert refused(bad, "ListMcubeNebulaAppsResult").startswith("PageNum:")


def test_resource_create_and_list_wire_shape(h5_ready, demo, tmp_path):
    reply = _resource(h5_ready, demo, tmp_path)
    created = ok(reply, "CreateMcubeNebulaResourceReslult")  # sic: the key the SDK model reads
    assert created["NebulaResourceId"].isdigit() and created["ErrorCode"] == ""
    _resource(h5_ready, demo, tmp_path, version="1.0.0.2")
    listed = ok(
        rpc(h5_ready, demo, "ListMcubeNebulaResources", H5Id=H5, PageNum="1", PageSize="1"),
        "ListMcubeNebulaResourceResult",
    )
    assert (listed["TotalCount"], listed["HasMore"], listed["CurrentPage"]) == (2, True, 1)
    info = listed["NebulaResourceInfo"][0]
    _types(info, RESOURCE_TYPES)
    assert info["H5Version"] == "1.0.0.2" and info["ResourceType"] == "1" and info["Platform"] == "all"
    assert info["AppCode"] == f"{demo['appId']}-{demo['workspaceId']}" and info["AutoInstall"] == 1
    assert info["DownloadUrl"].endswith(".amr") and info["Memo"].endswith("h5.json")
    assert int(info["FileSize"]) > 0 and len(info["Md5"]) == 32 and info["Status"] == 1
    assert json.loads(info["ExtendInfo"]) == {"launchParams": {"a": 1}}
    assert info["GmtCreate"][4] == "-" and info["GmtCreate"][10] == " " and len(info["GmtCreate"]) == 19
    older = ok(
        rpc(h5_ready, demo, "ListMcubeNebulaResources", H5Id=H5, PageNum="2", PageSize="1"),
        "ListMcubeNebulaResourceResult",
    )
    assert older["HasMore"] is False and older["NebulaResourceInfo"][0]["Id"] == int(
        created["NebulaResourceId"]
    )
    one = ok(
        rpc(h5_ready, demo, "GetMcubeNebulaResource", Id=created["NebulaResourceId"]),
        "GetNebulaResourceResult",
    )
    assert one["NebulaResourceInfo"] == older["NebulaResourceInfo"][0]
    missing = rpc(h5_ready, demo, "GetMcubeNebulaResource", Id="999999")
    assert missing["ResultCode"] == "NotFound" and missing["GetNebulaResourceResult"]["Success"] is False


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"MainUrl": "index.php"}, "MainUrl"),
        ({"Platform": "windows"}, "Platform"),
        ({"ResourceType": "7"}, "ResourceType"),
        ({"AutoInstall": "x"}, "AutoInstall"),
        ({"ClientVersionMin": "1.0.0"}, "ClientVersionMin"),
        ({"ExtendInfo": "{not json"}, "ExtendInfo"),
        ({"H5Version": None}, "H5Version"),
        ({"FileUrl": "https://elsewhere.example.com/x.zip"}, "FileUrl"),
    ],
)
def test_resource_errors_name_the_parameter(h5_ready, demo, tmp_path, extra, field):
    message = refused(_resource(h5_ready, demo, tmp_path, **extra), "CreateMcubeNebulaResourceReslult")
    assert message.startswith(field), message


def test_duplicate_version_is_refused(h5_ready, demo, tmp_path):
    ok(_resource(h5_ready, demo, tmp_path), "CreateMcubeNebulaResourceReslult")
    again = _resource(h5_ready, demo, tmp_path)
    message = refused(again, "CreateMcubeNebulaResourceReslult")
    assert "1.0.0.1" in message and again["ResultCode"] in ("Conflict", "InvalidParameter")


def _whitelist(admin, demo) -> str:
    from tests.conftest import ws_path

    created = admin.post(ws_path(demo, "/whitelists"), {"name": "testers", "type": "normal", "ids": "u1,u2"})
    assert created.status == 201, created.body
    return str(created.body["whitelistId"])


def test_tasks_enums_rules_and_status_changes(h5_ready, demo, admin, tmp_path):
    resource_id = ok(_resource(h5_ready, demo, tmp_path), "CreateMcubeNebulaResourceReslult")[
        "NebulaResourceId"
    ]
    whitelist_id = _whitelist(admin, demo)
    rules = json.dumps([{"ruleElement": "city", "operation": 1, "value": "Shanghai,Beijing"}])
    gray = ok(
        rpc(
            h5_ready, demo, "CreateMcubeNebulaTask", Id="0", PackageId=resource_id, PublishType="2", PublishMode="1",
            WhitelistIds=whitelist_id, GreyConfigInfo=rules, Memo="first", TaskName="canary", Platform="all",
            BizType="nebula", Percent="0",
        ),
        "CreateMcubeNebulaTaskResult",
    )  # fmt: skip
    assert gray["NebulaTaskId"].isdigit()
    end = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    window = ok(
        rpc(h5_ready, demo, "CreateMcubeNebulaTask", PackageId=resource_id, PublishType="2", PublishMode="2",
            GreyEndtimeData=end, GreyNum="50"),
        "CreateMcubeNebulaTaskResult",
    )  # fmt: skip
    official = ok(
        rpc(h5_ready, demo, "CreateMcubeNebulaTask", PackageId=resource_id, PublishType="3", Memo="all"),
        "CreateMcubeNebulaTaskResult",
    )
    listed = ok(rpc(h5_ready, demo, "ListMcubeNebulaTasks", Id=resource_id), "ListMcubeNebulaTaskResult")
    tasks = {str(t["Id"]): t for t in listed["NebulaTaskInfo"]}
    assert set(tasks) == {gray["NebulaTaskId"], window["NebulaTaskId"], official["NebulaTaskId"]}
    for task in tasks.values():
        _types(task, TASK_TYPES)
        assert (
            task["BizType"] == "nebula" and task["PackageId"] == int(resource_id) and task["TaskStatus"] == 1
        )
        assert (
            task["ProductId"] == f"{demo['appId']}-{demo['workspaceId']}-{H5}"
            and task["ProductVersion"] == "1.0.0.1"
        )
    g, w, o = tasks[gray["NebulaTaskId"]], tasks[window["NebulaTaskId"]], tasks[official["NebulaTaskId"]]
    assert (g["PublishType"], g["PublishMode"], g["WhitelistIds"], g["TaskName"]) == (
        2,
        1,
        whitelist_id,
        "canary",
    )
    assert json.loads(g["GreyConfigInfo"])["subRules"][0]["left"] == ["Shanghai", "Beijing"]
    assert (w["PublishType"], w["PublishMode"], w["GreyNum"], w["GreyEndtimeData"]) == (2, 2, 50, end)
    assert (o["PublishType"], o["PublishMode"], o["GreyConfigInfo"], o["Memo"]) == (3, 4, "", "all")

    detail = ok(
        rpc(h5_ready, demo, "GetMcubeNebulaTaskDetail", TaskId=gray["NebulaTaskId"]),
        "GetMcubeNebulaTaskDetailResult",
    )["NebulaTaskDetail"]
    _types(detail, DETAIL_TYPES)
    assert detail["RuleJsonList"] == [
        {"RuleElement": "city", "Operation": "1", "Value": "Shanghai,Beijing", "RuleType": "city"}
    ]
    assert detail["AppId"] == demo["appId"] and detail["DownloadUrl"].endswith(".amr")

    def status(task_id: str, code: str, **extra) -> dict:
        return rpc(
            h5_ready,
            demo,
            "ChangeMcubeNebulaTaskStatus",
            TaskId=task_id,
            TaskStatus=code,
            BizType="nebula",
            **extra,
        )

    task_id = gray["NebulaTaskId"]
    for code, expected in (("3", 3), ("1", 1), ("2", 2)):
        ok(status(task_id, code, PackageId=resource_id), "ChangeMcubeNebulaTaskStatusResult")
        shown = ok(
            rpc(h5_ready, demo, "GetMcubeNebulaTaskDetail", TaskId=task_id), "GetMcubeNebulaTaskDetailResult"
        )
        assert shown["NebulaTaskDetail"]["TaskStatus"] == expected
    assert refused(status(task_id, "1"), "ChangeMcubeNebulaTaskStatusResult")  # ended is final
    assert refused(status(task_id, "0"), "ChangeMcubeNebulaTaskStatusResult").startswith("TaskStatus:")
    wrong_package = status(official["NebulaTaskId"], "3", PackageId="999999")
    assert refused(wrong_package, "ChangeMcubeNebulaTaskStatusResult").startswith("PackageId:")
    missing = rpc(h5_ready, demo, "GetMcubeNebulaTaskDetail", TaskId="999999")
    assert (
        missing["ResultCode"] == "NotFound" and missing["GetMcubeNebulaTaskDetailResult"]["Success"] is False
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"PublishType": "5"}, "PublishType"),
        ({"PublishType": "2", "PublishMode": "3"}, "PublishMode"),
        ({"PublishType": "2", "PublishMode": "1"}, "WhitelistIds"),
        ({"PublishType": "2", "PublishMode": "1", "WhitelistIds": "424242"}, "WhitelistIds[0]"),
        (
            {"PublishType": "2", "PublishMode": "2", "GreyNum": "5", "GreyEndtimeData": "DAYS8"},
            "GreyEndtimeData",
        ),
        (
            {"PublishType": "2", "PublishMode": "2", "GreyNum": "5", "GreyEndtimeData": "tomorrow"},
            "GreyEndtimeData",
        ),
        ({"PublishType": "2", "PublishMode": "2", "GreyEndtimeData": "DAYS1"}, "GreyNum"),
        (
            {"PublishType": "3", "GreyConfigInfo": '[{"ruleElement": "city", "operation": 1, "value": "x"}]'},
            "GreyConfigInfo",
        ),
        ({"PublishType": "3", "Id": "7"}, "Id"),
        ({"PublishType": "3", "ResIds": "1,2"}, "ResIds"),
    ],
)
def test_task_errors_name_the_parameter(h5_ready, demo, tmp_path, params, field):
    resource_id = ok(_resource(h5_ready, demo, tmp_path), "CreateMcubeNebulaResourceReslult")[
        "NebulaResourceId"
    ]
    fmt = "%Y-%m-%d %H:%M:%S"
    days = {f"DAYS{n}": (datetime.now(UTC) + timedelta(days=n)).strftime(fmt) for n in (1, 8)}
    sent = {k: days.get(v, v) for k, v in params.items()}
    reply = rpc(h5_ready, demo, "CreateMcubeNebulaTask", PackageId=resource_id, **sent)
    message = refused(reply, "CreateMcubeNebulaTaskResult")
    assert message.startswith(field + ":"), message
    listed = ok(rpc(h5_ready, demo, "ListMcubeNebulaTasks", Id=resource_id), "ListMcubeNebulaTaskResult")
    assert listed["NebulaTaskInfo"] == []  # nothing half-written


# ------------------------------------------------------------------- the streaming upload host (AWS)


@pytest.fixture
def upload_host(api_base, monkeypatch):
    """mds/upload_host.py on a free port, named as the tokens' Host (MDS_FILE_UPLOAD_HOST)."""
    import threading

    from chalicelib import config
    from mds.upload_host import serve

    server = serve("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}/upload"
    monkeypatch.setenv("MDS_FILE_UPLOAD_HOST", url)
    config.reload()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_streaming_host_stores_large_files_in_parts(upload_host, api_base, demo, aws):
    from chalicelib.config import settings
    from chalicelib.store import mcube_files
    from chalicelib.store.aws import client

    token = file_token(api_base, demo)
    assert token["Host"] == upload_host
    data = bytes(range(256)) * ((2 * mcube_files.PART_BYTES + 12345) // 256)
    assert upload(token, "batch.zip", data).status_code == 204
    stored = client("s3").get_object(
        Bucket=settings().artifacts_bucket, Key="files/" + token["Dir"] + "batch.zip"
    )
    assert stored["ETag"].endswith('-3"') and stored["Body"].read() == data
    # the FileUrl of the separate host resolves like the API route's
    url = f"{upload_host}/{token['Dir']}batch.zip"
    reply = rpc(api_base, demo, "UploadMcubeRsaKey", FileUrl=url)
    assert refused(reply, "UploadRsaResult").startswith("FileUrl: the file must be at most")
    small = upload(token, "tiny.txt", b"\r\n--not-the-boundary\r\n", success_action_status="201")
    assert small.status_code == 201 and small.json() == {"Key": token["Dir"] + "tiny.txt"}
    tiny = client("s3").get_object(
        Bucket=settings().artifacts_bucket, Key="files/" + token["Dir"] + "tiny.txt"
    )
    assert tiny["Body"].read() == b"\r\n--not-the-boundary\r\n"


def test_streaming_host_refuses_before_reading_the_file(upload_host, api_base, demo, aws):
    from chalicelib.config import settings
    from chalicelib.store.aws import client

    token = file_token(api_base, demo)
    bad = {**token, "Signature": base64.b64encode(b"y" * 20).decode()}
    reply = upload(bad, "x.zip", b"PK" * 1000)
    assert reply.status_code == 403 and reply.json()["Code"] == "AccessDenied"
    outside = upload({**token, "Dir": "OTHER/default/abc/"}, "x.zip", b"PK")
    assert outside.status_code == 403
    with no_proxy_env():
        no_file = requests.post(token["Host"], files={"key": (None, token["Dir"] + "x")}, timeout=10)
    assert no_file.status_code == 400
    listed = client("s3").list_objects_v2(Bucket=settings().artifacts_bucket, Prefix="files/")
    assert listed.get("KeyCount", 0) == 0


# --------------------------------------------------------------------------- roles and audit trail


def test_viewer_key_reads_but_cannot_change(api_base, demo, admin):
    from tests.conftest import ws_path

    viewer = {**demo, **admin.post(ws_path(demo, "/access-keys"), {"role": "viewer"}).body}
    ok(rpc(api_base, viewer, "ListMcubeNebulaApps"), "ListMcubeNebulaAppsResult")
    ok(rpc(api_base, viewer, "QueryMcubeVhost"), "QueryVhostResult")
    for action, params in (
        ("CreateMcubeNebulaApp", {"H5Id": "12345670", "H5Name": "x"}),
        ("GetMcubeFileToken", {}),
        ("ChangeMcubeNebulaTaskStatus", {"TaskId": "1", "TaskStatus": "3"}),
    ):
        status, reply = rpc_raw(api_base, viewer, action, **params)
        assert (status, reply["Code"]) == (403, "Forbidden.AccessDenied"), action
    assert ok(rpc(api_base, demo, "ListMcubeNebulaApps"), "ListMcubeNebulaAppsResult")["TotalCount"] == 0


def test_changes_are_audited_with_the_access_key(api_base, demo, admin):
    from tests.conftest import ws_path

    ok(
        rpc(api_base, demo, "CreateMcubeNebulaApp", H5Id="12345670", H5Name="Audited"),
        "CreateNebulaAppResult",
    )
    entries = admin.get(ws_path(demo, "/audit?entityType=h5_app")).body["entries"]
    created = [e for e in entries if e["action"] == "h5.app.create"]
    assert [(e["entityId"], e["actor"]) for e in created] == [
        ("12345670", f"access_key:{demo['accessKeyId']}")
    ]
