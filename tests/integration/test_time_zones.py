"""A workspace's time zone (default mPaaS's Asia/Shanghai, UTC+8): the OpenAPI reads ``GreyEndtimeData``
and writes every wire time in it and names it in the answer (``TimeZone``); an admin changes it, audited;
the console API shows it with its offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests import app_files
from tests.conftest import ws_path
from tests.integration.test_openapi_h5 import rpc
from tests.mpaas_sdk import MpaasSdk, ok


@pytest.fixture
def sdk(http_endpoint, demo, monkeypatch) -> MpaasSdk:
    from chalicelib import config

    monkeypatch.setenv("MDS_API_BASE_URL", f"http://{http_endpoint}")
    config.reload()
    return MpaasSdk.for_creds(http_endpoint, demo)


def _window_task(sdk: MpaasSdk, package_id: str, end: str) -> str:
    body = sdk.call("CreateMcubeUpgradeTask", package_info_id=int(package_id), publish_type=2, publish_mode=2,
                    grey_endtime_data=end, grey_num=10, upgrade_type=202)  # fmt: skip
    return ok(body, "create_task_result").upgrade_task_id


def test_grey_end_time_is_read_in_the_workspace_zone(sdk, admin, demo, http_endpoint):
    url = sdk.upload("app.apk", app_files.apk("5.0"))
    package_id = ok(
        sdk.call("CreateMcubeUpgradePackage", app_version="5.0", platform="Android", file_url=url),
        "result_content",
    ).data
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    end = f"{tomorrow} 18:00:00"

    shown = admin.get(ws_path(demo)).body
    assert (shown["timeZone"], shown["utcOffset"]) == ("Asia/Shanghai", "+08:00")
    task_id = _window_task(sdk, package_id, end)
    task = admin.get(ws_path(demo, f"/upgrade/tasks/{task_id}")).body
    assert task["endTime"].replace("Z", "+00:00") == f"{tomorrow}T10:00:00+00:00"  # 18:00 in Shanghai
    info = ok(sdk.call("GetMcubeUpgradeTaskInfo", task_id=int(task_id)), "get_task_result").task_info
    assert info.grey_endtime_data == end  # written back in the same zone
    raw = rpc(http_endpoint, demo, "GetMcubeUpgradeTaskInfo", TaskId=task_id)
    assert raw["TimeZone"] == "Asia/Shanghai"  # the answer names its zone

    changed = admin.request("PATCH", ws_path(demo), {"timeZone": "UTC"})
    assert changed.status == 200 and changed.body["timeZone"] == "UTC", changed.body
    utc_task = _window_task(sdk, package_id, end)
    shown = admin.get(ws_path(demo, f"/upgrade/tasks/{utc_task}")).body
    assert shown["endTime"].replace("Z", "+00:00") == f"{tomorrow}T18:00:00+00:00"
    again = ok(sdk.call("GetMcubeUpgradeTaskInfo", task_id=int(task_id)), "get_task_result").task_info
    assert again.grey_endtime_data == f"{tomorrow} 10:00:00"  # the first task, now shown in UTC
    entries = admin.get(ws_path(demo, "/audit")).body
    entries = entries.get("entries", entries.get("items", []))
    assert any(
        e.get("action") == "workspace.update" and e.get("after") == {"timeZone": "UTC"} for e in entries
    )


def test_time_zone_changes_are_checked(admin, demo):
    bad = admin.request("PATCH", ws_path(demo), {"timeZone": "Mars/Olympus"})
    assert bad.status == 400 and bad.body["field"] == "timeZone", bad.body
    viewer = admin.post(
        ws_path(demo, "/users"), {"username": "tzviewer", "password": "Viewer-pass-123", "role": "viewer"}
    )
    assert viewer.status == 201, viewer.body
    token = admin.login("tzviewer", "Viewer-pass-123")
    refused = admin.request("PATCH", ws_path(demo), {"timeZone": "UTC"}, token=token)
    assert refused.status == 403
    assert admin.get(ws_path(demo)).body["timeZone"] == "Asia/Shanghai"
