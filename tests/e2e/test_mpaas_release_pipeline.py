"""Migration, the whole release: an mPaaS CI pipeline (official Tea SDK ``alibabacloud_mpaas20201028``)
runs against the local stack unchanged but for the endpoint and the keys — APK upload with
GetMcubeFileToken, CreateMcubeUpgradePackage, a whitelist, a grey task, pause, an official task,
a hotpatch for the shipped version, its release, and the rollback. Between the steps a phone asks the
device API what it gets, so each step is checked by its effect, not only by its answer."""

from __future__ import annotations

import json

import pytest
import requests

from tests import app_files
from tests.e2e.cli import mds
from tests.mpaas_sdk import MpaasSdk, ok
from tests.sdk_capture import no_proxy_env

pytestmark = pytest.mark.e2e


class ReleasePipeline:
    """What the customer's script does, step by step, with nothing but the SDK and an HTTP client."""

    def __init__(self, sdk: MpaasSdk) -> None:
        self.sdk = sdk

    def upload_package(self, version: str, apk: bytes) -> str:
        url = self.sdk.upload(f"app-release-{version}.apk", apk)
        body = self.sdk.call("CreateMcubeUpgradePackage", app_version=version, platform="Android",
                             file_url=url, desc=f"release {version}", onex_flag=True)  # fmt: skip
        return ok(body, "result_content").data

    def testers(self, name: str, user_ids: list[str]) -> str:
        made = ok(self.sdk.call("CreateMcubeWhitelist", white_list_name=name, whitelist_type="upgrade"),
                  "create_whitelist_result")  # fmt: skip
        added = ok(self.sdk.call("UpdateMcubeWhitelist", id=made.whitelist_id, key_ids=",".join(user_ids)),
                   "add_whitelist_result")  # fmt: skip
        assert added.add_whitelist_info.success_num == len(user_ids)
        return made.whitelist_id

    def grey(self, package_id: str, whitelist_id: str) -> str:
        body = self.sdk.call("CreateMcubeUpgradeTask", package_info_id=int(package_id), publish_type=2,
                             publish_mode=1, whitelist_ids=whitelist_id, upgrade_type=206,
                             upgrade_content="A new version is ready", memo="grey")  # fmt: skip
        return ok(body, "create_task_result").upgrade_task_id

    def official(self, package_id: str) -> str:
        body = self.sdk.call("CreateMcubeUpgradeTask", package_info_id=int(package_id), publish_type=3,
                             upgrade_type=204, upgrade_content="Please update", memo="everyone")  # fmt: skip
        return ok(body, "create_task_result").upgrade_task_id

    def set_status(self, task_id: str, status: int) -> None:
        ok(self.sdk.call("ChangeMcubePublicTaskStatus", task_id=task_id, task_status=str(status)),
           "result_content")  # fmt: skip

    def hotpatch(self, version: str, name: str, script: bytes) -> tuple[str, str]:
        url = self.sdk.upload(name, script)
        made = ok(self.sdk.call("CreateMcubeHotpatchResource", file_url=url, platform="Android",
                                product_version=version, fix_desc="crash fix", onex_flag=True),
                  "create_hotpatch_resource_result").hotpatch_resource_id  # fmt: skip
        task = ok(self.sdk.call("CreateMcubeHotpatchTask", package_id=int(made), publish_type=3, memo="all"),
                  "create_hotpatch_task_result").hotpatch_task_id  # fmt: skip
        return made, task

    def roll_back(self, patch_id: str, version: str) -> str:
        body = self.sdk.call("CreateMcubeHotpatchRollbackTask", id=int(patch_id), product_version=version)
        return ok(body, "create_hotpatch_rollback_task_result").rollback_task_id


def test_mpaas_release_pipeline(local_stack, tmp_path):
    session = tmp_path / "session.json"
    mds(local_stack, session, "login", "--bootstrap", str(local_stack.data_dir / "bootstrap.json"))
    app_id, workspace_id = "MPAASREL01", "prod"
    mds(local_stack, session, "workspaces", "create", app_id, workspace_id, "--name", "mPaaS releases")
    key = json.loads(
        mds(local_stack, session, "keys", "create", "--role", "release_manager", "--json",
            "--app", app_id, "--workspace", workspace_id)
    )  # fmt: skip
    endpoint = local_stack.api_url.removeprefix("http://")  # the only things that change: endpoint, keys
    ci = ReleasePipeline(MpaasSdk(endpoint, key["accessKeyId"], key["accessKeySecret"], app_id, workspace_id))

    def upgrade_check(user: str) -> dict:
        body = {"appId": app_id, "workspaceId": workspace_id, "platform": "android", "clientVersion": "4.0",
                "userId": user, "deviceId": f"sim-{user}", "netType": "WIFI"}  # fmt: skip
        with no_proxy_env():
            reply = requests.post(f"{local_stack.api_url}/client/v1/upgrade/check", json=body, timeout=10)
        reply.raise_for_status()
        return reply.json()

    def hotpatch_check(user: str) -> dict:
        body = {"appId": app_id, "workspaceId": workspace_id, "platform": "android", "clientVersion": "5.0",
                "userId": user, "deviceId": f"sim-{user}"}  # fmt: skip
        with no_proxy_env():
            reply = requests.post(f"{local_stack.api_url}/client/v1/hotpatch/check", json=body, timeout=10)
        reply.raise_for_status()
        return reply.json()

    release_apk = app_files.apk("5.0")
    package_id = ci.upload_package("5.0", release_apk)
    whitelist_id = ci.testers("qa", ["tester-1", "tester-2"])
    grey_id = ci.grey(package_id, whitelist_id)
    assert upgrade_check("tester-1")["resultStatus"] == 206  # the grey task, forced
    assert upgrade_check("customer-9")["resultStatus"] == 201  # not in the whitelist: up to date

    ci.set_status(grey_id, 3)  # pause
    assert upgrade_check("tester-1")["resultStatus"] == 201
    official_id = ci.official(package_id)
    for user in ("tester-1", "customer-9"):
        answer = upgrade_check(user)
        assert (answer["resultStatus"], answer["newestVersion"]) == (204, "5.0")
        assert answer["guideMemo"] == "Please update"
    with no_proxy_env():  # the link devices get serves exactly the uploaded APK
        apk = requests.get(upgrade_check("customer-9")["downloadURL"], timeout=10)
    assert apk.status_code == 200 and apk.content == release_apk
    tasks = ok(ci.sdk.call("ListMcubeUpgradeTasks", package_id=package_id), "list_task_result").task_info
    assert {(str(t.id), t.task_status) for t in tasks} == {(grey_id, 3), (official_id, 1)}

    first, _ = ci.hotpatch("5.0", "fix-1.js", b"console.log('fix 1');")
    assert hotpatch_check("customer-9")["patchId"] == first
    second, _ = ci.hotpatch("5.0", "fix-2.js", b"console.log('fix 2');")
    assert hotpatch_check("customer-9")["patchId"] == second
    assert ci.roll_back(second, "5.0").isdigit()
    after = hotpatch_check("customer-9")
    assert after["patchId"] == first and second in after["revoked"]  # back to the previous good patch

    listed = ok(ci.sdk.call("ListMcubeHotpatchResources"), "list_hotpatch_resource_result")
    assert {str(r.id): r.publish_period for r in listed.hotpatch_resource_info} == {first: 2, second: 5}
    package = ok(ci.sdk.call("GetMcubeUpgradePackageInfo", package_id=int(package_id)), "get_package_result")
    assert package.package_info.upgrade_base_info_do.publish_period == 2  # official releasing
