"""Story 6 (migration): a CI pipeline written for mPaaS ships an H5 offline package to MDS, unchanged
except for the endpoint. It drives all 14 H5 actions with Alibaba Cloud's official Tea SDK
(``alibabacloud_mpaas20201028``), uploads files the way mPaaS tooling does (GetMcubeFileToken + a
PostObject-style form with the six token fields), calls one action through the legacy
``aliyunsdkcore`` CommonRequest, and checks how wrong secrets and bad inputs are reported."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from alibabacloud_mpaas20201028 import models
from alibabacloud_mpaas20201028.client import Client
from Tea.exceptions import TeaException

from tests import h5_zips
from tests.e2e.cli import mds
from tests.mpaas_sdk import SDK_CONNECT_TIMEOUT_MS, SDK_READ_TIMEOUT_MS, sdk_config
from tests.sdk_capture import no_proxy_env

pytestmark = pytest.mark.e2e

H5_ID = "12345678"


class Pipeline:
    """What a customer's mPaaS CI script holds: one client, the AppId/WorkspaceId pair."""

    def __init__(self, endpoint: str, key_id: str, secret: str, app_id: str, workspace_id: str) -> None:
        self.client = Client(sdk_config(endpoint, key_id, secret))
        self.ids = {"app_id": app_id, "workspace_id": workspace_id, "tenant_id": "MDS"}

    def call(self, method: str, request_class: str, **params):
        with no_proxy_env():
            request = getattr(models, request_class)(**self.ids, **params)
            return getattr(self.client, method)(request).body

    def upload(self, path) -> str:
        """GetMcubeFileToken, then the OSS PostObject form mPaaS tooling sends; returns the FileUrl."""
        body = self.call("get_mcube_file_token", "GetMcubeFileTokenRequest", onex_flag=True)
        assert body.result_code == "OK" and body.get_file_token_result.success
        token = body.get_file_token_result.file_token
        key = token.dir + path.name
        form = {
            "key": key,
            "OSSAccessKeyId": token.accessid,
            "policy": token.policy,
            "Signature": token.signature,
        }
        with no_proxy_env(), path.open("rb") as f:
            reply = requests.post(token.host, data=form, files={"file": (path.name, f)}, timeout=60)
        assert reply.status_code in (200, 204), reply.text
        return f"{token.host}/{key}"


def test_mpaas_ci_script_ships_an_h5_package(local_stack, tmp_path):
    # the platform admin gives the team a workspace of its own and a CI AccessKey for it
    # (the local stack is shared with the other stories, which use the demo workspace)
    session = tmp_path / "session.json"
    mds(local_stack, session, "login", "--bootstrap", str(local_stack.data_dir / "bootstrap.json"))
    app_id, workspace_id = "MPAASCI01", "prod"
    mds(local_stack, session, "workspaces", "create", app_id, workspace_id, "--name", "mPaaS CI")
    key = json.loads(
        mds(local_stack, session, "keys", "create", "--role", "release_manager", "--json",
            "--app", app_id, "--workspace", workspace_id)
    )  # fmt: skip
    endpoint = local_stack.api_url.removeprefix("http://")
    ci = Pipeline(endpoint, key["accessKeyId"], key["accessKeySecret"], app_id, workspace_id)

    # --- one-time workspace setup: vhost and the package signing key
    assert (
        ci.call(
            "create_mcube_vhost", "CreateMcubeVhostRequest", vhost="h5.shop.example.com"
        ).create_vhost_result.data
        == "success"
    )
    assert (
        ci.call("query_mcube_vhost", "QueryMcubeVhostRequest").query_vhost_result.data
        == "h5.shop.example.com"
    )
    assert ci.call("exist_mcube_rsa_key", "ExistMcubeRsaKeyRequest").check_rsa_key_result.data == "fail"
    pem = tmp_path / "mpaas_rsa_private.pem"
    pem.write_bytes(_rsa_pem())
    uploaded = ci.call(
        "upload_mcube_rsa_key", "UploadMcubeRsaKeyRequest", file_url=ci.upload(pem), onex_flag=True
    )
    assert uploaded.result_code == "OK" and uploaded.upload_rsa_result.success
    exists = ci.call("exist_mcube_rsa_key", "ExistMcubeRsaKeyRequest").check_rsa_key_result
    assert exists.success is True and exists.data == "success"

    # --- the H5 app and its first version
    created = ci.call("create_mcube_nebula_app", "CreateMcubeNebulaAppRequest", h_5id=H5_ID, h_5name="Shop")
    assert created.result_code == "OK" and created.create_nebula_app_result.success
    apps = ci.call("list_mcube_nebula_apps", "ListMcubeNebulaAppsRequest", page_num=1, page_size=10)
    listed = apps.list_mcube_nebula_apps_result
    assert [(a.h_5id, a.h_5name) for a in listed.nebula_app_infos] == [(H5_ID, "Shop")]
    assert (listed.total_count, listed.has_more, listed.current_page) == (1, False, 1)

    package = h5_zips.normal(tmp_path / f"{H5_ID}_1.0.0.1.zip", H5_ID, version="1.0.0.1")
    resource_params = {
        "h_5id": H5_ID, "h_5name": "Shop", "h_5version": "1.0.0.1", "file_url": ci.upload(package),
        "main_url": "/www/index.html", "vhost": "h5.shop.example.com", "resource_type": 1, "platform": "all",
        "client_version_min": "1.0.0;1.0.0", "client_version_max": "", "auto_install": 1, "install_type": 0,
        "extend_info": "{}", "onex_flag": True,
    }  # fmt: skip
    made = ci.call("create_mcube_nebula_resource", "CreateMcubeNebulaResourceRequest", **resource_params)
    assert made.result_code == "OK", made.result_message
    resource_id = made.create_mcube_nebula_resource_reslult.nebula_resource_id
    assert resource_id.isdigit()
    resources = ci.call(
        "list_mcube_nebula_resources",
        "ListMcubeNebulaResourcesRequest",
        h_5id=H5_ID,
        page_num=1,
        page_size=10,
    ).list_mcube_nebula_resource_result
    info = resources.nebula_resource_info[0]
    assert (info.id, info.h_5version, info.resource_type, info.platform) == (
        int(resource_id),
        "1.0.0.1",
        "1",
        "all",
    )
    assert info.download_url.endswith(".amr") and len(info.md_5) == 32 and int(info.file_size) > 0

    # --- grey to a whitelist first, then everyone
    ws = ("--app", app_id, "--workspace", workspace_id)
    mds(local_stack, session, "whitelist", "create", "h5-testers", *ws)
    whitelist_id = json.loads(mds(local_stack, session, "whitelist", "list", "--json", *ws))["whitelists"][
        -1
    ]["whitelistId"]
    grey = ci.call(
        "create_mcube_nebula_task", "CreateMcubeNebulaTaskRequest", id=0, package_id=int(resource_id),
        publish_type=2, publish_mode=1, whitelist_ids=str(whitelist_id), memo="canary", task_name="canary",
        grey_config_info=json.dumps([{"ruleElement": "city", "operation": 1, "value": "Shanghai,Beijing"}]),
        platform="all", biz_type="nebula",
    )  # fmt: skip
    assert grey.result_code == "OK", grey.result_message
    grey_id = grey.create_mcube_nebula_task_result.nebula_task_id
    official = ci.call(
        "create_mcube_nebula_task", "CreateMcubeNebulaTaskRequest", package_id=int(resource_id), publish_type=3,
        memo="everyone",
    )  # fmt: skip
    assert official.result_code == "OK", official.result_message
    official_id = official.create_mcube_nebula_task_result.nebula_task_id
    with no_proxy_env():  # released: the signed .amr is on the CDN
        assert requests.get(info.download_url, timeout=10).status_code == 200

    tasks = ci.call("list_mcube_nebula_tasks", "ListMcubeNebulaTasksRequest", id=int(resource_id))
    by_id = {str(t.id): t for t in tasks.list_mcube_nebula_task_result.nebula_task_info}
    assert set(by_id) == {grey_id, official_id}
    assert (by_id[grey_id].publish_type, by_id[grey_id].publish_mode, by_id[grey_id].task_status) == (2, 1, 1)
    assert by_id[grey_id].whitelist_ids == str(whitelist_id) and by_id[official_id].publish_type == 3
    assert by_id[grey_id].product_id == f"{app_id}-{workspace_id}-{H5_ID}"

    def detail(task_id: str):
        body = ci.call(
            "get_mcube_nebula_task_detail", "GetMcubeNebulaTaskDetailRequest", task_id=int(task_id)
        )
        assert body.result_code == "OK", body.result_message
        return body.get_mcube_nebula_task_detail_result.nebula_task_detail

    shown = detail(grey_id)
    assert shown.package_id == int(resource_id) and shown.product_version == "1.0.0.1"
    assert [(r.rule_element, r.operation, r.value) for r in shown.rule_json_list] == [
        ("city", "1", "Shanghai,Beijing")
    ]
    for status in (3, 1, 2):  # pause, resume, end
        changed = ci.call(
            "change_mcube_nebula_task_status", "ChangeMcubeNebulaTaskStatusRequest", task_id=grey_id,
            package_id=resource_id, task_status=status, biz_type="nebula",
        )  # fmt: skip
        assert changed.result_code == "OK" and changed.change_mcube_nebula_task_status_result.success
        assert detail(grey_id).task_status == status

    # --- bad inputs come back as a non-OK ResultCode naming the parameter (the SDK does not raise)
    reserved = ci.call(
        "create_mcube_nebula_app", "CreateMcubeNebulaAppRequest", h_5id="20000196", h_5name="x"
    )
    assert reserved.result_code != "OK" and reserved.result_message.startswith("H5Id:")
    assert reserved.create_nebula_app_result.success is False
    bad_url = ci.call(
        "create_mcube_nebula_resource", "CreateMcubeNebulaResourceRequest",
        **{**resource_params, "h_5version": "1.0.0.2", "main_url": "index.php", "file_url": ci.upload(package)},
    )  # fmt: skip
    assert bad_url.result_code != "OK" and bad_url.result_message.startswith("MainUrl:")
    duplicate = ci.call(
        "create_mcube_nebula_resource", "CreateMcubeNebulaResourceRequest",
        **{**resource_params, "file_url": ci.upload(package)},
    )  # fmt: skip
    assert duplicate.result_code != "OK" and "1.0.0.1" in duplicate.result_message
    assert duplicate.create_mcube_nebula_resource_reslult.success is False
    eight_days = (datetime.now(UTC) + timedelta(days=8)).strftime("%Y-%m-%d %H:%M:%S")
    too_long = ci.call(
        "create_mcube_nebula_task", "CreateMcubeNebulaTaskRequest", package_id=int(resource_id), publish_type=2,
        publish_mode=2, grey_endtime_data=eight_days, grey_num=100,
    )  # fmt: skip
    assert too_long.result_code != "OK" and too_long.result_message.startswith("GreyEndtimeData:")

    # --- the legacy SDK (aliyunsdkcore CommonRequest, RPC HMAC-SHA1) reads the same workspace
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    legacy = AcsClient(key["accessKeyId"], key["accessKeySecret"], "cn-hangzhou",
                       timeout=SDK_READ_TIMEOUT_MS // 1000, connect_timeout=SDK_CONNECT_TIMEOUT_MS // 1000)  # fmt: skip
    request = CommonRequest(
        domain=endpoint, version="2020-10-28", action_name="ListMcubeNebulaTasks", product="mPaaS"
    )
    request.set_method("POST")
    request.set_protocol_type("http")
    for name, value in (
        ("AppId", app_id),
        ("WorkspaceId", workspace_id),
        ("Id", resource_id),
    ):
        request.add_body_params(name, value)
    with no_proxy_env():
        reply = json.loads(legacy.do_action_with_exception(request))
    assert reply["ResultCode"] == "OK"
    statuses = {str(t["Id"]): t["TaskStatus"] for t in reply["ListMcubeNebulaTaskResult"]["NebulaTaskInfo"]}
    assert statuses == {grey_id: 2, official_id: 1}

    # --- a wrong secret is refused the way Alibaba Cloud refuses it
    forged = Pipeline(endpoint, key["accessKeyId"], "not-the-secret", app_id, workspace_id)
    with pytest.raises(TeaException) as err:
        forged.call("query_mcube_vhost", "QueryMcubeVhostRequest")
    assert err.value.code == "SignatureDoesNotMatch" and err.value.status_code == 400

    # --- deleting the app takes its versions and tasks with it
    deleted = ci.call("delete_mcube_nebula_app", "DeleteMcubeNebulaAppRequest", h_5id=H5_ID)
    assert deleted.result_code == "OK" and deleted.delete_mcube_nebula_app_result.success
    apps = ci.call("list_mcube_nebula_apps", "ListMcubeNebulaAppsRequest", page_num=1, page_size=10)
    assert (
        apps.list_mcube_nebula_apps_result.nebula_app_infos == []
        or not apps.list_mcube_nebula_apps_result.total_count
    )
    gone = ci.call("list_mcube_nebula_tasks", "ListMcubeNebulaTasksRequest", id=int(resource_id))
    assert gone.result_code == "NotFound"


def _rsa_pem() -> bytes:
    """What `openssl genrsa 2048` writes (PKCS#1 PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
