"""The console's delivery preview: what a device context gets per product, from the published manifests,
and "needs the dynamic API" (with no quota used) where a time-window claim would decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.builders import add_android
from tests.conftest import ws_path


def _preview(api, demo, **context):
    return api.post(ws_path(demo, "/delivery/preview"), context)


def _upgrade(reply) -> dict:
    assert reply.status == 200, reply.body
    return next(p for p in reply.body["products"] if p["product"] == "upgrade")


def test_nothing_published_yet_is_a_static_up_to_date_answer(admin, demo):
    upgrade = _upgrade(_preview(admin, demo, platform="android", clientVersion="1.0", userId="alice"))
    assert upgrade["published"] is False and upgrade["static"] is True
    assert upgrade["answer"]["resultStatus"] == 201 and upgrade["needsDynamicApi"] == []


def test_whitelist_gray_is_static_and_time_window_needs_the_dynamic_api_without_a_claim(admin, demo, aws):
    wid = admin.post(ws_path(demo, "/whitelists"), {"name": "qa", "type": "normal", "ids": "alice"}).body[
        "whitelistId"
    ]
    p50 = add_android(admin, demo, aws, "5.0")["packageId"]
    gray = admin.post(
        ws_path(demo, f"/upgrade/packages/{p50}/tasks"),
        {"type": "gray", "grayModel": "whitelist", "whitelistIds": [wid], "mode": "forced",
         "guideMemo": "for QA"},
    )  # fmt: skip
    assert gray.status == 201, gray.body
    end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    window = admin.post(
        ws_path(demo, f"/upgrade/packages/{p50}/tasks"),
        {"type": "gray", "grayModel": "timeWindow", "endTime": end, "usersCount": 5, "mode": "single"},
    )
    assert window.status == 201, window.body

    alice = _upgrade(_preview(admin, demo, platform="android", clientVersion="4.0", userId="alice"))
    assert alice["published"] is True and alice["static"] is True
    assert alice["answer"]["resultStatus"] == 206 and alice["answer"]["guideMemo"] == "for QA"
    assert alice["chosen"] == [{"subject": "", "candidateId": f"upgrade-task-{gray.body['taskId']}"}]

    bob = _upgrade(_preview(admin, demo, platform="android", clientVersion="4.0", userId="bob"))
    assert bob["static"] is False and bob["answer"] is None
    assert bob["needsDynamicApi"] == [
        {
            "subject": "",
            "candidateId": f"upgrade-task-{window.body['taskId']}",
            "reason": "needs the dynamic API",
        }
    ]
    task = admin.get(ws_path(demo, f"/upgrade/tasks/{window.body['taskId']}")).body
    assert task["claimed"] == 0  # a preview never consumes time-window quota

    newer = _upgrade(_preview(admin, demo, platform="android", clientVersion="5.0", userId="alice"))
    assert newer["answer"]["resultStatus"] == 201  # already on 5.0: nothing new


def test_a_viewer_may_preview_and_bad_contexts_name_the_field(admin, api, demo):
    created = admin.post(
        ws_path(demo, "/users"), {"username": "vera", "password": "viewer-pass-1", "role": "viewer"}
    )
    assert created.status == 201, created.body
    viewer = api.login("vera", "viewer-pass-1")
    seen = api.post(ws_path(demo, "/delivery/preview"), {"platform": "ios"}, token=viewer)
    assert seen.status == 200 and seen.body["platform"] == "ios"

    missing = _preview(admin, demo, userId="alice")
    assert (missing.status, missing.body["field"]) == (400, "platform")
    wrong = _preview(admin, demo, platform="windows")
    assert (wrong.status, wrong.body["field"]) == (400, "platform")
    unknown = _preview(admin, demo, platform="android", battery="low")
    assert (unknown.status, unknown.body["field"]) == (400, "battery")
    outsider = api.post(
        "/api/apps/OTHER/workspaces/default/delivery/preview", {"platform": "ios"}, token=viewer
    )
    assert outsider.status == 404
