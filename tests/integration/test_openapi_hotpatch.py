"""The hotpatch OpenAPI actions through the official Tea SDK over real HTTP (the in-process app behind
Chalice's local server, moto): a patch from an uploaded file (checked, signed by MDS, on the CDN),
releases grey and official, status changes, rollback by patch or release ID, delete; refusals named
by their wire parameter."""

from __future__ import annotations

import base64
import json

import pytest

from tests.mpaas_sdk import MpaasSdk, ok, refused

VERSION = "6.1"


@pytest.fixture
def sdk(http_endpoint, demo, monkeypatch) -> MpaasSdk:
    from chalicelib import config

    monkeypatch.setenv("MDS_API_BASE_URL", f"http://{http_endpoint}")
    config.reload()
    client = MpaasSdk.for_creds(http_endpoint, demo)
    ok(
        client.call("CreateMcubeUpgradePackage", app_version=VERSION, platform="iOS",
                    appstore_url="https://apps.apple.com/app/id123456789"),
        "result_content",
    )  # fmt: skip  # a patch patches an app version MDS knows
    return client


def _patch(sdk: MpaasSdk, name: str = "fix.js", data: bytes = b"console.log('fix');") -> str:
    made = ok(
        sdk.call("CreateMcubeHotpatchResource", file_url=sdk.upload(name, data), platform="iOS",
                 product_version=VERSION, fix_desc="null check", onex_flag=True),
        "create_hotpatch_resource_result",
    )  # fmt: skip
    assert made.hotpatch_resource_id.isdigit() and made.error_code == ""
    return made.hotpatch_resource_id


def test_patch_release_rollback_delete(sdk, aws):
    from chalicelib.services import hotpatch_keys

    first, second = _patch(sdk), _patch(sdk, "fix2.js", b"console.log('fix 2');")
    listed = ok(sdk.call("ListMcubeHotpatchResources", page_num=1, page_size=1),
                "list_hotpatch_resource_result")  # fmt: skip
    assert (listed.total_count, listed.has_more) == (2, True)
    newest = listed.hotpatch_resource_info[0]
    assert (str(newest.id), newest.platform, newest.product_version, newest.memo) == (
        second, "iOS", VERSION, "null check"
    )  # fmt: skip
    assert newest.source_name == "fix2.js" and newest.file_size == "21" and newest.package_id > 0
    assert newest.publish_period == 0
    from chalicelib.config import settings
    from chalicelib.store import hotpatch_files

    assert newest.download_url.startswith(settings().cdn_base_url + "/")  # what the CDN serves
    path = newest.download_url.removeprefix(settings().cdn_base_url + "/")
    assert hotpatch_files.read(path) == b"console.log('fix 2');"

    whitelist = ok(
        sdk.call("CreateMcubeWhitelist", white_list_name="qa"), "create_whitelist_result"
    ).whitelist_id
    rules = json.dumps([{"ruleElement": "city", "operation": 2, "value": "Beijing"}])
    gray = ok(
        sdk.call("CreateMcubeHotpatchTask", package_id=int(first), publish_type=2, publish_mode=1,
                 whitelist_ids=whitelist, grey_config_info=rules, memo="canary", platform="iOS", sync_mode="x"),
        "create_hotpatch_task_result",
    ).hotpatch_task_id  # fmt: skip
    official = ok(
        sdk.call("CreateMcubeHotpatchTask", package_id=int(first), publish_type=3, memo="everyone"),
        "create_hotpatch_task_result",
    ).hotpatch_task_id
    tasks = ok(
        sdk.call("ListMcubeHotpatchTasks", id=int(first)), "list_hotpatch_tasks_result"
    ).hotpatch_task_info
    by_id = {str(t.id): t for t in tasks}
    assert set(by_id) == {gray, official}
    assert (by_id[gray].publish_type, by_id[gray].publish_mode, by_id[gray].whitelist_ids) == (
        2,
        1,
        whitelist,
    )
    assert (by_id[official].publish_type, by_id[official].publish_mode, by_id[official].task_status) == (
        3,
        4,
        1,
    )
    assert by_id[gray].package_id == int(first) and by_id[gray].product_version == VERSION

    detail = ok(sdk.call("QueryMcubeHotpatchTaskDetail", task_id=int(gray)),
                "query_hotpatch_task_detail_result").hotpatch_task_detail  # fmt: skip
    assert [(r.rule_element, r.operation, r.value) for r in detail.rule_json_list] == [
        ("city", "2", "Beijing")
    ]
    assert [(str(w.id), w.white_list_name) for w in detail.whitelist] == [(whitelist, "qa")]
    assert detail.memo == "canary" and detail.download_url.endswith("fix.js") and detail.publish_period == 2
    assert detail.app_id == sdk.ids["app_id"] and detail.task_version > 0 and detail.quick_rollback == 0
    # the file devices get is signed by the workspace's MDS key
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.security import rsa_keys
    from chalicelib.store import hotpatch as store

    tenant = TenantId(sdk.ids["app_id"], sdk.ids["workspace_id"])
    signed = store.get_patch(tenant, first).file
    key_id, private = hotpatch_keys.mds_key(tenant)
    assert signed.key_id == key_id
    assert rsa_keys.verify(private, b"console.log('fix');", base64.b64decode(signed.signature))

    for status in (3, 1):
        changed = ok(sdk.call("UpdateMcubeHotpatchTaskStatus", task_id=int(gray), task_status=status,
                              package_id=int(first), biz_type="hotpatch"),
                     "update_hotpatch_task_status_result")  # fmt: skip
        assert changed.result == str(status)
    wrong = sdk.call(
        "UpdateMcubeHotpatchTaskStatus", task_id=int(gray), task_status=3, package_id=int(second)
    )
    refused(wrong, "update_hotpatch_task_status_result", "PackageId")

    busy = sdk.call("DeleteMcubeHotpatchResource", id=int(first))
    assert busy.result_code == "Conflict" and gray in busy.result_message
    rolled = ok(sdk.call("CreateMcubeHotpatchRollbackTask", id=int(official), product_version=VERSION),
                "create_hotpatch_rollback_task_result")  # fmt: skip  # by a release ID: its patch
    assert rolled.rollback_task_id.isdigit() and int(rolled.rollback_task_id) >= 1
    after = ok(
        sdk.call("ListMcubeHotpatchTasks", id=int(first)), "list_hotpatch_tasks_result"
    ).hotpatch_task_info
    assert {t.task_status for t in after} == {2}  # the rollback ended every live release
    again = sdk.call("CreateMcubeHotpatchRollbackTask", id=int(first))
    refused(again, "create_hotpatch_rollback_task_result", "patch")
    kept = sdk.call("DeleteMcubeHotpatchResource", id=int(first))
    assert kept.result_code == "Conflict" and "rolled back" in kept.result_message

    gone = ok(sdk.call("DeleteMcubeHotpatchResource", id=int(second), app_code=newest.app_code),
              "delete_hotpatch_resource_result")  # fmt: skip
    assert gone.delete_result == "success"
    left = ok(sdk.call("ListMcubeHotpatchResources"), "list_hotpatch_resource_result").hotpatch_resource_info
    assert [str(r.id) for r in left] == [first] and left[0].publish_period == 5


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("CreateMcubeHotpatchResource", {"platform": "iOS", "product_version": VERSION}, "FileUrl"),
        (
            "CreateMcubeHotpatchResource",
            {"platform": "iOS", "product_version": "9.9", "file_url": "JS"},
            "ProductVersion",
        ),
        (
            "CreateMcubeHotpatchResource",
            {"platform": "Android", "product_version": VERSION, "file_url": "JS"},
            "ProductVersion",
        ),
        (
            "CreateMcubeHotpatchResource",
            {"platform": "iOS", "product_version": VERSION, "file_url": "EXE"},
            "FileUrl",
        ),
        (
            "CreateMcubeHotpatchResource",
            {"platform": "iOS", "product_version": VERSION, "file_url": "BADZIP"},
            "FileUrl",
        ),
        ("CreateMcubeHotpatchTask", {"package_id": "P", "publish_type": 2, "publish_mode": 2}, "PublishMode"),
        (
            "CreateMcubeHotpatchTask",
            {"package_id": "P", "publish_type": 2, "publish_mode": 1},
            "WhitelistIds",
        ),
        (
            "CreateMcubeHotpatchTask",
            {"package_id": "P", "publish_type": 2, "publish_mode": 1, "whitelist_ids": "424242"},
            "WhitelistIds[0]",
        ),
        ("CreateMcubeHotpatchTask", {"package_id": 999999, "publish_type": 3}, "patch 999999"),
        ("CreateMcubeHotpatchRollbackTask", {"id": "P"}, "patch"),
        ("CreateMcubeHotpatchRollbackTask", {"id": "P", "product_version": "1.0"}, "ProductVersion"),
        ("CreateMcubeHotpatchRollbackTask", {"id": 999999}, "Id"),
        ("QueryMcubeHotpatchTaskDetail", {"task_id": 999999}, "release 999999"),
        ("UpdateMcubeHotpatchTaskStatus", {"task_id": 999999, "task_status": 3}, "release 999999"),
        ("UpdateMcubeHotpatchTaskStatus", {"task_id": 1, "task_status": 0}, "TaskStatus"),
        ("DeleteMcubeHotpatchResource", {"id": "P", "app_code": "other-ws"}, "AppCode"),
        ("ListMcubeHotpatchTasks", {"id": 999999}, "patch 999999"),
        ("ListMcubeHotpatchResources", {"page_num": 0}, "PageNum"),
    ],
)
def test_refusals_name_the_parameter(sdk, action, params, field):
    import io
    import zipfile

    patch_id = _patch(sdk)
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("../evil.js", "x")
    files = {"JS": ("f.js", b"x"), "EXE": ("f.exe", b"MZ"), "BADZIP": ("f.zip", broken.getvalue())}
    sent = {
        k: (patch_id if v == "P" else sdk.upload(*files[v]) if v in files else v) for k, v in params.items()
    }
    result = {
        "CreateMcubeHotpatchResource": "create_hotpatch_resource_result",
        "CreateMcubeHotpatchTask": "create_hotpatch_task_result",
        "CreateMcubeHotpatchRollbackTask": "create_hotpatch_rollback_task_result",
        "QueryMcubeHotpatchTaskDetail": "query_hotpatch_task_detail_result",
        "UpdateMcubeHotpatchTaskStatus": "update_hotpatch_task_status_result",
        "DeleteMcubeHotpatchResource": "delete_hotpatch_resource_result",
        "ListMcubeHotpatchTasks": "list_hotpatch_tasks_result",
        "ListMcubeHotpatchResources": "list_hotpatch_resource_result",
    }[action]
    refused(sdk.call(action, **sent), result, field)
    left = ok(sdk.call("ListMcubeHotpatchResources"), "list_hotpatch_resource_result").hotpatch_resource_info
    assert [str(r.id) for r in left] == [patch_id]  # nothing half-written, nothing deleted
    tasks = ok(sdk.call("ListMcubeHotpatchTasks", id=int(patch_id)), "list_hotpatch_tasks_result")
    assert tasks.hotpatch_task_info == []
