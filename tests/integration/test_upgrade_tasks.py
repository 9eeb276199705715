"""Release tasks through the console API on moto: creation rules, limits, status changes, safety."""

from __future__ import annotations

from tests.builders import add_android, add_task, add_whitelist, later
from tests.conftest import ws_path


def _store_package(admin, demo, distribution: str, version: str = "5.0") -> dict:
    body = {"platform": "ios", "distribution": distribution, "version": version}
    if distribution == "appStore":
        body["storeUrl"] = "https://apps.apple.com/app/id1"
    else:
        body.update(storeUrl="https://testflight.apple.com/join/AbC", validDays=30, testerLimit=100)
    reply = admin.post(ws_path(demo, "/upgrade/packages"), body)
    assert reply.status == 201, reply.body
    return reply.body


def _tasks(admin, demo) -> list[dict]:
    return admin.get(ws_path(demo, "/upgrade/tasks")).body["tasks"]


def test_official_task_defaults_and_package_status(admin, demo):
    package = _store_package(admin, demo, "appStore", "5.0.1")
    reply = add_task(
        admin, demo, package["packageId"], type="official", mode="forced", guideMemo="Please update"
    )
    assert reply.status == 201, reply.body
    task = reply.body
    assert task["resultStatus"] == 206 and task["status"] == "running" and task["grayModel"] is None
    assert task["clientVersions"] == [
        {"min": None, "max": "5.0.1", "minInclusive": True, "maxInclusive": False}
    ]
    assert (
        admin.get(ws_path(demo, f"/upgrade/packages/{package['packageId']}")).body["status"]
        == "officialRelease"
    )
    log = admin.get(ws_path(demo, f"/audit?entityType=upgrade_task&entityId={task['taskId']}")).body[
        "entries"
    ]
    assert log[0]["action"] == "upgrade.task.create"


def test_gray_whitelist_task_with_rules_and_net_types(admin, demo):
    package = _store_package(admin, demo, "appStore")
    wid = add_whitelist(admin, demo)
    reply = add_task(
        admin, demo, package["packageId"],
        type="gray", grayModel="whitelist", whitelistIds=[wid], mode=202, clientVersions=["4.0-4.9"],
        rules=[{"type": "city", "operation": 1, "values": ["Shanghai"]},
               {"type": "osVersion", "operation": 3, "ranges": ["8.0-12.0"]}],
        needClientNetType="wifi, 4g", silentPeriodDays=7, description="QA first",
    )  # fmt: skip
    assert reply.status == 201, reply.body
    task = reply.body
    assert (
        task["mode"] == "single" and task["silentPeriodDays"] == 7 and task["needClientNetType"] == "WIFI,4G"
    )
    assert task["whitelistIds"] == [wid] and [r["type"] for r in task["rules"]] == ["city", "osVersion"]
    assert (
        admin.get(ws_path(demo, f"/upgrade/packages/{package['packageId']}")).body["status"] == "grayRelease"
    )


def test_platform_constraints(admin, demo, aws):
    testflight = _store_package(admin, demo, "testFlight")
    official = add_task(admin, demo, testflight["packageId"], type="official", mode="single")
    assert (
        official.status == 400
        and official.body["field"] == "type"
        and "gray only" in official.body["message"]
    )
    forced = add_task(admin, demo, testflight["packageId"], type="gray", grayModel="timeWindow", mode="forced",
                   endTime=later(days=1), usersCount=10)  # fmt: skip
    assert forced.status == 400 and forced.body["field"] == "mode"

    from tests import app_files
    from tests.builders import send_file

    created = admin.post(
        ws_path(demo, "/upgrade/packages"),
        {"platform": "ios", "distribution": "enterprise", "version": "5.1", "filename": "Demo.ipa"},
    ).body
    send_file(aws, created["upload"], app_files.ipa("5.1"), "Demo.ipa")
    window = add_task(admin, demo, created["packageId"], type="gray", grayModel="timeWindow", mode="single",
                   endTime=later(days=1), usersCount=10)  # fmt: skip
    assert (
        window.status == 400
        and window.body["field"] == "grayModel"
        and "whitelists only" in window.body["message"]
    )
    ent_official = add_task(admin, demo, created["packageId"], type="official", mode="single")
    assert ent_official.status == 400 and ent_official.body["field"] == "type"
    wid = add_whitelist(admin, demo)
    ok = add_task(
        admin,
        demo,
        created["packageId"],
        type="gray",
        grayModel="whitelist",
        whitelistIds=[wid],
        mode="forced",
    )
    assert ok.status == 201, ok.body
    assert [t["taskId"] for t in _tasks(admin, demo)] == [ok.body["taskId"]]  # nothing else was created


def test_bad_task_input_names_the_field_and_changes_nothing(admin, demo):
    package = _store_package(admin, demo, "appStore")
    pid = package["packageId"]
    wid = add_whitelist(admin, demo)
    cases = [
        ({"type": "beta", "mode": "single"}, "type"),
        ({"type": "official", "mode": "loud"}, "mode"),
        ({"type": "official"}, "mode"),
        ({"type": "gray", "mode": "single"}, "grayModel"),
        ({"type": "gray", "grayModel": "whitelist", "mode": "single"}, "whitelistIds"),
        ({"type": "gray", "grayModel": "whitelist", "whitelistIds": ["999"], "mode": "single"}, "whitelistIds[0]"),
        ({"type": "gray", "grayModel": "whitelist", "whitelistIds": [wid, "12345"], "mode": "single"}, "whitelistIds[1]"),
        ({"type": "gray", "grayModel": "timeWindow", "mode": "single", "usersCount": 5}, "endTime"),
        ({"type": "gray", "grayModel": "timeWindow", "mode": "single", "endTime": later(hours=-1), "usersCount": 5}, "endTime"),
        ({"type": "gray", "grayModel": "timeWindow", "mode": "single", "endTime": "tomorrow", "usersCount": 5}, "endTime"),
        ({"type": "gray", "grayModel": "timeWindow", "mode": "single", "endTime": later(days=1), "usersCount": 0}, "usersCount"),
        ({"type": "gray", "grayModel": "timeWindow", "mode": "single", "endTime": later(days=1), "usersCount": -3}, "usersCount"),
        ({"type": "gray", "grayModel": "timeWindow", "mode": "single", "endTime": later(days=1)}, "usersCount"),
        ({"type": "official", "mode": "single", "rules": [{"type": "city", "operation": 1, "values": ["x"]}]}, "rules"),
        ({"type": "gray", "grayModel": "whitelist", "whitelistIds": [wid], "mode": "single",
          "rules": [{"type": "city", "operation": 9, "values": ["x"]}]}, "rules[0].operation"),
        ({"type": "official", "mode": "single", "clientVersions": ["4.0-6.0"]}, "clientVersions[0]"),
        ({"type": "official", "mode": "single", "clientVersions": [{"min": "4.0"}]}, "clientVersions[0]"),
        ({"type": "official", "mode": "single", "clientVersions": [{"min": "4.0", "max": "3.0"}]}, "clientVersions[0].max"),
        ({"type": "official", "mode": "single", "needClientNetType": "WIFI,6G"}, "needClientNetType"),
        ({"type": "official", "mode": "multiple", "silentPeriodDays": 3}, "silentPeriodDays"),
        ({"type": "official", "mode": "single", "guideMemo": "x" * 1001}, "guideMemo"),
        ({"type": "official", "mode": "single", "usersCount": 5}, "usersCount"),
        ({"type": "official", "mode": "single", "whitelistIds": [wid]}, "whitelistIds"),
        ({"type": "official", "mode": "single", "surprise": True}, "surprise"),
    ]  # fmt: skip
    for body, field in cases:
        reply = add_task(admin, demo, pid, **body)
        assert reply.status == 400 and reply.body["field"] == field, (body, reply.body)
    assert _tasks(admin, demo) == []
    assert admin.get(ws_path(demo, f"/upgrade/packages/{pid}")).body["status"] == "toBeReleased"
    missing = add_task(admin, demo, "404", type="official", mode="single")
    assert missing.status == 404


def test_at_most_ten_live_tasks_per_package(admin, demo):
    pid = _store_package(admin, demo, "appStore")["packageId"]
    created = [add_task(admin, demo, pid, type="official", mode="multiple") for _ in range(10)]
    assert [r.status for r in created] == [201] * 10
    eleventh = add_task(admin, demo, pid, type="official", mode="multiple")
    assert (
        eleventh.status == 409
        and eleventh.body["field"] == "packageId"
        and "10 live tasks" in eleventh.body["message"]
    )
    assert len(_tasks(admin, demo)) == 10
    paused = created[0].body["taskId"]
    admin.post(ws_path(demo, f"/upgrade/tasks/{paused}/status"), {"action": "pause"})
    assert add_task(admin, demo, pid, type="official", mode="multiple").status == 409  # paused tasks are live
    admin.post(ws_path(demo, f"/upgrade/tasks/{paused}/status"), {"action": "end"})
    assert add_task(admin, demo, pid, type="official", mode="multiple").status == 201  # ended ones are not


def test_status_changes_follow_the_state_machine(admin, demo):
    pid = _store_package(admin, demo, "appStore")["packageId"]
    tid = add_task(admin, demo, pid, type="official", mode="single").body["taskId"]
    status = ws_path(demo, f"/upgrade/tasks/{tid}/status")
    resume = admin.post(status, {"action": "continue"})
    assert (
        resume.status == 409
        and resume.body["field"] == "action"
        and "only a paused task" in resume.body["message"]
    )
    paused = admin.post(status, {"action": "pause"})
    assert paused.status == 200 and paused.body["status"] == "paused" and paused.body["revision"] == 2
    assert admin.get(ws_path(demo, f"/upgrade/packages/{pid}")).body["status"] == "paused"
    assert admin.post(status, {"action": "pause"}).status == 409
    stale = admin.post(status, {"action": "continue", "revision": 1})
    assert stale.status == 409 and stale.body["code"] == "ConcurrentModification"
    assert admin.post(status, {"action": "continue", "revision": 2}).body["status"] == "running"
    assert admin.post(status, {"action": "end"}).body["status"] == "ended"
    again = admin.post(status, {"action": "continue"})
    assert again.status == 409 and "an ended task cannot be continued" in again.body["message"]
    assert admin.post(status, {"action": "end"}).status == 409
    assert admin.post(status, {"action": "restart"}).status == 400
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{tid}")).body["status"] == "ended"
    assert admin.get(ws_path(demo, f"/upgrade/packages/{pid}")).body["status"] == "finished"
    actions = [
        e["action"]
        for e in admin.get(ws_path(demo, f"/audit?entityType=upgrade_task&entityId={tid}")).body["entries"]
    ]
    assert actions == ["upgrade.task.end", "upgrade.task.resume", "upgrade.task.pause", "upgrade.task.create"]


def test_a_time_window_task_ends_at_its_end_time(admin, demo):
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.store import upgrade_tasks

    pid = _store_package(admin, demo, "appStore")["packageId"]
    task = add_task(
        admin,
        demo,
        pid,
        type="gray",
        grayModel="timeWindow",
        mode="single",
        endTime=later(days=1),
        usersCount=50,
    )
    assert task.status == 201 and task.body["usersCount"] == 50 and task.body["claimed"] == 0
    stored = upgrade_tasks.get(TenantId(demo["appId"], demo["workspaceId"]), task.body["taskId"])
    assert stored.is_running(stored.end_time - 1) and stored.status(stored.end_time).value == "ended"


def test_viewer_cannot_end_a_task_and_the_attempt_is_audited(admin, demo):
    pid = _store_package(admin, demo, "appStore")["packageId"]
    tid = add_task(admin, demo, pid, type="official", mode="single").body["taskId"]
    admin.post(
        ws_path(demo, "/users"), {"username": "viewer4", "password": "a-long-password", "role": "viewer"}
    )
    token = admin.login("viewer4", "a-long-password")
    refused = admin.post(ws_path(demo, f"/upgrade/tasks/{tid}/status"), {"action": "end"}, token=token)
    assert refused.status == 403
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{tid}"), token=token).body["status"] == "running"
    denied = admin.get(ws_path(demo, "/audit?entityType=permission")).body["entries"][0]
    assert (
        denied["actor"] == "user:viewer4"
        and denied["action"] == "upgrade.task.end"
        and denied["outcome"] == "denied"
    )


def test_another_tenant_cannot_see_or_change_a_task(admin, demo):
    pid = _store_package(admin, demo, "appStore")["packageId"]
    tid = add_task(admin, demo, pid, type="official", mode="single").body["taskId"]
    admin.post("/api/workspaces", {"appId": "OTHER", "workspaceId": "prod", "name": "Other"})
    other = {"appId": "OTHER", "workspaceId": "prod"}
    assert admin.get(ws_path(other, f"/upgrade/tasks/{tid}")).status == 404
    assert admin.post(ws_path(other, f"/upgrade/tasks/{tid}/status"), {"action": "end"}).status == 404
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{tid}")).body["status"] == "running"


def test_deleting_a_package_with_live_tasks_is_refused_naming_them(admin, demo, aws):
    package = add_android(admin, demo, aws, "5.0")
    pid = package["packageId"]
    first = add_task(admin, demo, pid, type="official", mode="single").body["taskId"]
    second = add_task(admin, demo, pid, type="official", mode="forced").body["taskId"]
    admin.post(ws_path(demo, f"/upgrade/tasks/{second}/status"), {"action": "pause"})
    refused = admin.delete(ws_path(demo, f"/upgrade/packages/{pid}"))
    assert refused.status == 409
    assert f"task {first} (official, running)" in refused.body["message"]
    assert f"task {second} (official, paused)" in refused.body["message"]
    replace = admin.post(ws_path(demo, f"/upgrade/packages/{pid}/uploads"), {"filename": "new.apk"})
    assert replace.status == 409 and "cannot be replaced" in replace.body["message"]
    for tid in (first, second):
        admin.post(ws_path(demo, f"/upgrade/tasks/{tid}/status"), {"action": "end"})
    assert admin.delete(ws_path(demo, f"/upgrade/packages/{pid}")).status == 204
    assert admin.get(ws_path(demo, f"/upgrade/packages/{pid}")).status == 404
    assert _tasks(admin, demo) == []
    again = admin.post(
        ws_path(demo, "/upgrade/packages"), {"platform": "android", "version": "5.0", "filename": "a.apk"}
    )
    assert again.status == 201  # the version is free again


def test_a_whitelist_used_by_a_live_task_cannot_be_deleted(admin, demo):
    pid = _store_package(admin, demo, "appStore")["packageId"]
    wid = add_whitelist(admin, demo)
    tid = add_task(admin, demo, pid, type="gray", grayModel="whitelist", whitelistIds=[wid], mode="single").body[
        "taskId"
    ]
    refused = admin.delete(ws_path(demo, f"/whitelists/{wid}"))
    assert (
        refused.status == 409
        and f"in use and cannot be deleted; it is used by: upgrade task {tid}" in refused.body["message"]
    )
    admin.post(ws_path(demo, f"/upgrade/tasks/{tid}/status"), {"action": "end"})
    assert admin.delete(ws_path(demo, f"/whitelists/{wid}")).status == 204
