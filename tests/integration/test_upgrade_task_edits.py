"""Modifying a released upgrade task (guide §4.3) through the console API on moto: what a device then
gets, the optimistic revision, the audit, and what may not change with the reason naming the field."""

from __future__ import annotations

from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId
from tests.builders import add_android, add_task, add_whitelist, later, upgrade_answer
from tests.conftest import ws_path


def _edit(admin, demo, task_id: str, **body):
    return admin.request("PATCH", ws_path(demo, f"/upgrade/tasks/{task_id}"), body)


def test_prompt_versions_rules_and_whitelists_change_what_a_device_gets(admin, demo, aws):
    tenant = TenantId(demo["appId"], demo["workspaceId"])
    pid = add_android(admin, demo, aws, "5.0")["packageId"]
    qa = add_whitelist(admin, demo, "qa", "alice")
    beta = add_whitelist(admin, demo, "beta", "bob")
    created = add_task(admin, demo, pid, type="gray", grayModel="whitelist", whitelistIds=[qa], mode="single",
                    clientVersions=["4.0-4.9"], guideMemo="Try it")  # fmt: skip
    tid = created.body["taskId"]
    alice = Device(Platform.ANDROID, user_id="alice", client_version="4.0")
    bob = Device(Platform.ANDROID, user_id="bob", client_version="3.0", city="Hangzhou")
    assert upgrade_answer(tenant, alice)["guideMemo"] == "Try it" and upgrade_answer(tenant, bob)["resultStatus"] == 201

    edited = _edit(admin, demo, tid, revision=1, guideMemo="Now for beta", description="wider",
                   whitelistIds=[beta], clientVersions=["3.0-4.9"], silentPeriodDays=9,
                   rules=[{"type": "city", "operation": 1, "values": ["Hangzhou"]}])  # fmt: skip
    assert edited.status == 200, edited.body
    body = edited.body
    assert body["revision"] == 2 and body["whitelistIds"] == [beta] and body["silentPeriodDays"] == 9
    assert body["status"] == "running" and body["description"] == "wider"
    assert upgrade_answer(tenant, alice)["resultStatus"] == 201  # no longer in the task's whitelist
    answer = upgrade_answer(tenant, bob)
    assert answer["guideMemo"] == "Now for beta" and answer["silentPeriodDays"] == 9

    stale = _edit(admin, demo, tid, revision=1, guideMemo="lost update")
    assert stale.status == 409 and stale.body["code"] == "ConcurrentModification"
    assert _edit(admin, demo, tid, mode="forced").body["silentPeriodDays"] is None  # goes with single
    log = admin.get(ws_path(demo, f"/audit?entityType=upgrade_task&entityId={tid}")).body["entries"]
    assert [e["action"] for e in log] == ["upgrade.task.update", "upgrade.task.update", "upgrade.task.create"]
    assert log[1]["before"]["guideMemo"] == "Try it" and log[1]["after"]["guideMemo"] == "Now for beta"


def test_type_and_gray_model_never_change_and_nothing_is_written(admin, demo, aws):
    pid = add_android(admin, demo, aws, "5.0")["packageId"]
    qa = add_whitelist(admin, demo)
    tid = add_task(admin, demo, pid, type="gray", grayModel="whitelist", whitelistIds=[qa], mode="single").body[
        "taskId"
    ]
    for field, body in (
        ("type", {"type": "official"}),
        ("grayModel", {"grayModel": "timeWindow", "endTime": later(days=1), "usersCount": 5}),
        ("clientVersions[0]", {"clientVersions": ["4.0-6.0"], "guideMemo": "half"}),
        ("rules[0].type", {"rules": [{"type": "planet", "operation": 1, "values": ["Mars"]}]}),
        ("whitelistIds", {"whitelistIds": []}),
    ):
        refused = _edit(admin, demo, tid, **body)
        assert refused.status == 400 and refused.body["field"] == field, (field, refused.body)
    assert "end this task and create a new one" in _edit(admin, demo, tid, type="official").body["message"]
    assert _edit(admin, demo, tid, type="GRAY", guideMemo="same type").status == 200  # unchanged: fine
    task = admin.get(ws_path(demo, f"/upgrade/tasks/{tid}")).body
    assert task["revision"] == 2 and task["guideMemo"] == "same type" and task["grayModel"] == "whitelist"


def test_a_claimed_time_window_cannot_shrink_below_its_claims(admin, demo, aws):
    from chalicelib.store import quota

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    pid = add_android(admin, demo, aws, "5.0")["packageId"]
    task = add_task(admin, demo, pid, type="gray", grayModel="timeWindow", mode="single",
                 endTime=later(days=1), usersCount=5).body  # fmt: skip
    tid = task["taskId"]
    stored_end = admin.get(ws_path(demo, f"/upgrade/tasks/{tid}")).body["endTime"]
    for user in ("u1", "u2", "u3"):
        assert quota.claim(tenant, tid, user, now=1, end_time=4_000_000_000)
    refused = _edit(admin, demo, tid, usersCount=2)
    assert refused.status == 400 and refused.body["field"] == "usersCount"
    assert "3 users already claimed" in refused.body["message"]
    past = _edit(admin, demo, tid, endTime="2001-01-01T00:00:00+08:00")
    assert past.status == 400 and past.body["field"] == "endTime"
    grown = _edit(admin, demo, tid, usersCount=3, endTime=later(days=2))
    assert grown.status == 200 and grown.body["usersCount"] == 3 and grown.body["claimed"] == 3
    assert grown.body["endTime"] != stored_end
    assert not quota.claim(tenant, tid, "u4", now=1, end_time=4_000_000_000)  # the counter was resized


def test_an_ended_task_and_a_viewer_are_refused(admin, demo, aws):
    pid = add_android(admin, demo, aws, "5.0")["packageId"]
    tid = add_task(admin, demo, pid, type="official", mode="single").body["taskId"]
    admin.post(
        ws_path(demo, "/users"), {"username": "viewer9", "password": "a-long-password", "role": "viewer"}
    )
    token = admin.login("viewer9", "a-long-password")
    denied = admin.request("PATCH", ws_path(demo, f"/upgrade/tasks/{tid}"), {"guideMemo": "x"}, token=token)
    assert denied.status == 403
    unknown = _edit(admin, demo, tid, colour="red")
    assert unknown.status == 400 and unknown.body["field"] == "colour"
    admin.post(ws_path(demo, f"/upgrade/tasks/{tid}/status"), {"action": "end"})
    ended = _edit(admin, demo, tid, guideMemo="too late")
    assert ended.status == 409 and "has ended" in ended.body["message"]
