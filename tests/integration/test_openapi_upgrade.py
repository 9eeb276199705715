"""The version-upgrade OpenAPI actions through the official Tea SDK over real HTTP (the in-process app
behind Chalice's local server, moto): packages from uploaded APK/IPA files (inspected before anything is
stored), iOS kinds, tasks with every model's keys, status changes, deletes; refusals named by their
wire parameter, and nothing left behind by a refused create."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests import app_files
from tests.mpaas_sdk import MpaasSdk, ok, refused


@pytest.fixture
def sdk(http_endpoint, demo, monkeypatch) -> MpaasSdk:
    from chalicelib import config

    monkeypatch.setenv("MDS_API_BASE_URL", f"http://{http_endpoint}")
    config.reload()
    return MpaasSdk.for_creds(http_endpoint, demo)


def _apk_package(sdk: MpaasSdk, version: str = "5.0.1.2", **extra) -> str:
    url = sdk.upload(f"app-{version}.apk", app_files.apk(version))
    body = sdk.call("CreateMcubeUpgradePackage", app_version=version, platform="Android", file_url=url,
                    desc="spring release", onex_flag=True, need_check=0, **extra)  # fmt: skip
    made = ok(body, "result_content")
    assert made.data.isdigit() and made.error_code == ""
    return made.data


def _whitelist(sdk: MpaasSdk) -> str:
    made = ok(sdk.call("CreateMcubeWhitelist", white_list_name="testers"), "create_whitelist_result")
    ok(sdk.call("UpdateMcubeWhitelist", id=made.whitelist_id, key_ids="u1,u2"), "add_whitelist_result")
    return made.whitelist_id


def _packages(sdk: MpaasSdk) -> list:
    return ok(sdk.call("ListMcubeUpgradePackages", page_num=1, page_size=50), "list_packages_result").packages


def test_android_package_from_an_uploaded_apk(sdk):
    package_id = _apk_package(sdk)
    info = ok(sdk.call("GetMcubeUpgradePackageInfo", package_id=int(package_id)), "get_package_result")
    base = info.package_info.upgrade_base_info_do
    assert (base.id, base.platform, base.product_version, base.package_type) == (
        int(package_id), "Android", "5.0.1.2", "apk"
    )  # fmt: skip
    assert base.client_file_size > 0 and base.client_name == "app-5.0.1.2.apk"
    assert base.inner_version == "42" and base.product_name == "com.example.demo"
    assert base.allow_create_task is True and base.verify_result == 1 and base.publish_period == 0
    assert base.change_log == "spring release" and base.download_url.startswith("http")
    assert base.app_code == f"{sdk.ids['app_id']}-{sdk.ids['workspace_id']}" and len(base.gmt_create) == 19
    assert info.package_info.mobile_test_flight_config_do is None
    listed = _packages(sdk)
    assert [p.id for p in listed] == [int(package_id)]


def test_ios_kinds(sdk):
    ipa = sdk.upload("Demo.ipa", app_files.ipa("6.0", bundle_id="com.example.demo"))
    icon = sdk.upload("icon.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    symbols = sdk.upload("Demo.dSYM.tgz", app_files.dsym())
    enterprise = ok(
        sdk.call("CreateMcubeUpgradePackage", app_version="6.0", platform="iOS", is_enterprise=1, file_url=ipa,
                 bundle_id="com.example.demo", icon_file_url=icon, ios_symbolfile_url=symbols),
        "result_content",
    ).data  # fmt: skip
    store = ok(
        sdk.call("CreateMcubeUpgradePackage", app_version="6.1", platform="iOS",
                 appstore_url="https://apps.apple.com/app/id123456789"),
        "result_content",
    ).data  # fmt: skip
    flight = ok(
        sdk.call("CreateMcubeUpgradePackage", app_version="6.2", platform="iOS",
                 appstore_url="https://testflight.apple.com/join/AbCdEf12", valid_days=30, install_amount=500),
        "result_content",
    ).data  # fmt: skip
    by_id = {str(p.id): p for p in _packages(sdk)}
    assert (by_id[enterprise].is_enterprise, by_id[enterprise].package_type) == (1, "enterprise")
    assert by_id[enterprise].ios_symbol == "Demo.dSYM.tgz" and by_id[enterprise].inner_version
    assert (by_id[store].package_type, by_id[store].appstore_url) == (
        "appStore", "https://apps.apple.com/app/id123456789"
    )  # fmt: skip
    shown = ok(sdk.call("GetMcubeUpgradePackageInfo", package_id=int(flight)), "get_package_result")
    testflight = shown.package_info.mobile_test_flight_config_do
    assert (testflight.install_amount, testflight.upgrade_id) == (500, int(flight))
    created = datetime.strptime(shown.package_info.upgrade_base_info_do.gmt_create, "%Y-%m-%d %H:%M:%S")
    invalid = datetime.strptime(testflight.invalid_time, "%Y-%m-%d %H:%M:%S")
    assert invalid - created == timedelta(days=30)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"platform": "Android"}, "AppVersion"),
        ({"app_version": "5.0", "platform": "windows"}, "Platform"),
        ({"app_version": "5.0", "platform": "Android"}, "FileUrl"),
        (
            {"app_version": "5.0", "platform": "Android", "file_url": "https://elsewhere.example.com/a.apk"},
            "FileUrl",
        ),
        (
            {"app_version": "5.0", "platform": "Android", "download_url": "https://cdn.example.com/a.apk"},
            "DownloadUrl",
        ),
        ({"app_version": "5.0", "platform": "Android", "file_url": "NOTAPK"}, "FileUrl"),
        ({"app_version": "5.0", "platform": "Android", "file_url": "TXT"}, "FileUrl"),
        ({"app_version": "5.0", "platform": "Android", "is_enterprise": 1}, "IsEnterprise"),
        (
            {
                "app_version": "5.0",
                "platform": "iOS",
                "is_enterprise": 1,
                "file_url": "IPA",
                "icon_file_url": "NOTAPK",
            },
            "IconFileUrl",
        ),
        ({"app_version": "x y", "platform": "Android", "file_url": "APK"}, "AppVersion"),
        ({"app_version": "6.0", "platform": "iOS", "appstore_url": "ftp://x"}, "AppstoreUrl"),
    ],
)
def test_package_refusals_leave_nothing(sdk, aws, params, field):
    from chalicelib.config import settings
    from chalicelib.store.aws import client

    files = {
        "APK": lambda: sdk.upload("a.apk", app_files.apk("5.0")),
        "IPA": lambda: sdk.upload("a.ipa", app_files.ipa("5.0")),
        "NOTAPK": lambda: sdk.upload("b.apk", b"PK not really"),
        "TXT": lambda: sdk.upload("b.txt", b"hello"),
    }
    sent = {k: files[v]() if v in files else v for k, v in params.items()}
    refused(sdk.call("CreateMcubeUpgradePackage", **sent), "result_content", field)
    assert _packages(sdk) == []
    kept = client("s3").list_objects_v2(Bucket=settings().artifacts_bucket, Prefix="upgrade/")
    assert kept.get("KeyCount", 0) == 0  # no file kept for a package that was not stored


def test_tasks_through_every_model(sdk):
    package_id = _apk_package(sdk)
    whitelist_id = _whitelist(sdk)
    rules = json.dumps([{"ruleElement": "city", "operation": 1, "value": "Shanghai"}])
    gray = ok(
        sdk.call("CreateMcubeUpgradeTask", package_info_id=int(package_id), publish_type=2, publish_mode=1,
                 whitelist_ids=whitelist_id, upgrade_type=206, upgrade_content="Please update",
                 memo="canary", grey_config_info=rules, history_force=0),
        "create_task_result",
    )  # fmt: skip
    gray_id = gray.upgrade_task_id  # sic: the model's key is lower camel
    assert gray_id.isdigit()
    end = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%d %H:%M:%S")  # no 7-day cap here
    window = ok(
        sdk.call("CreateMcubeUpgradeTask", package_info_id=int(package_id), publish_type=2, publish_mode=2,
                 grey_endtime_data=end, grey_num=50, upgrade_type=204),
        "create_task_result",
    ).upgrade_task_id  # fmt: skip

    info = ok(sdk.call("GetMcubeUpgradeTaskInfo", task_id=int(gray_id)), "get_task_result").task_info
    assert (info.publish_type, info.publish_mode, info.upgrade_type, info.task_status) == (2, 1, 206, 1)
    assert (info.upgrade_content, info.memo, info.whitelist_ids) == ("Please update", "canary", whitelist_id)
    assert info.creater == info.creator != "" and info.package_info_id == int(package_id)
    assert [(w.id, w.white_list_name, w.white_list_count) for w in info.whitelist] == [
        (int(whitelist_id), "testers", 2)
    ]
    assert [(r.rule_element, r.operation, r.value) for r in info.rule_json_list] == [
        ("city", "1", "Shanghai")
    ]
    assert info.platform == "Android" and info.is_official == 0 and info.app_id == sdk.ids["app_id"]

    detail = sdk.call("QueryMdsUpgradeTaskDetail", task_id=int(window))
    assert detail.result_code == "OK" and detail.result_content.data.success is True
    content = detail.result_content.data.content
    assert (content.publish_mode, content.grey_num, content.grey_endtime_data, content.upgrade_type) == (
        2, 50, end, 204
    )  # fmt: skip
    assert content.product_version == "5.0.1.2" and content.grey_uv == 0

    listed = ok(sdk.call("ListMcubeUpgradeTasks", package_id=package_id), "list_task_result").task_info
    assert {str(t.id) for t in listed} == {gray_id, window}
    assert all(t.product_version == "5.0.1.2" and t.package_info_id == int(package_id) for t in listed)
    shown = ok(sdk.call("GetMcubeUpgradePackageInfo", package_id=int(package_id)), "get_package_result")
    assert shown.package_info.upgrade_base_info_do.publish_period == 1  # grey releasing

    for status in ("3", "1", "2"):
        changed = ok(sdk.call("ChangeMcubePublicTaskStatus", task_id=gray_id, task_status=status),
                     "result_content")  # fmt: skip
        assert changed.data == status
    again = sdk.call("ChangeMcubePublicTaskStatus", task_id=gray_id, task_status="1")
    refused(again, "result_content", "task")  # an ended task never comes back

    busy = sdk.call("DeleteMcubeUpgradeResource", id=package_id, platform="Android")
    assert busy.result_code == "Conflict" and window in busy.result_message
    in_use = sdk.call("DeleteMcubeWhitelist", id=int(whitelist_id))
    assert in_use.result_code == "OK"  # the only task using it has ended
    ok(sdk.call("ChangeMcubePublicTaskStatus", task_id=window, task_status="2"), "result_content")
    wrong = sdk.call("DeleteMcubeUpgradeResource", id=package_id, platform="iOS")
    refused(wrong, "delete_result", "Platform")
    ok(sdk.call("DeleteMcubeUpgradeResource", id=package_id, platform="Android"), "delete_result")
    assert _packages(sdk) == []
    gone = sdk.call("GetMcubeUpgradeTaskInfo", task_id=int(gray_id))
    assert gone.result_code == "NotFound" and gone.get_task_result.success is False


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"publish_type": 3}, "UpgradeType"),
        ({"publish_type": 3, "upgrade_type": 203}, "UpgradeType"),
        ({"publish_type": 5, "upgrade_type": 202}, "PublishType"),
        ({"publish_type": 2, "publish_mode": 1, "upgrade_type": 202}, "WhitelistIds"),
        (
            {"publish_type": 2, "publish_mode": 1, "whitelist_ids": "424242", "upgrade_type": 202},
            "WhitelistIds[0]",
        ),
        (
            {
                "publish_type": 2,
                "publish_mode": 2,
                "grey_num": 5,
                "grey_endtime_data": "tomorrow",
                "upgrade_type": 202,
            },
            "GreyEndtimeData",
        ),
        ({"publish_type": 3, "upgrade_type": 202, "history_force": 1}, "HistoryForce"),
        (
            {
                "publish_type": 3,
                "upgrade_type": 202,
                "grey_config_info": '[{"ruleElement": "city", "operation": 1, "value": "x"}]',
            },
            "GreyConfigInfo",
        ),
        ({"publish_type": 3, "upgrade_type": 202, "package_info_id": 999999}, "package 999999"),
    ],
)
def test_task_refusals_name_the_parameter(sdk, params, field):
    package_id = _apk_package(sdk)
    sent = {"package_info_id": int(package_id), **params}
    refused(sdk.call("CreateMcubeUpgradeTask", **sent), "create_task_result", field)
    listed = ok(sdk.call("ListMcubeUpgradeTasks", package_id=package_id), "list_task_result")
    assert listed.task_info == []  # nothing half-written
