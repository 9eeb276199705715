"""Progressive rollouts on moto (services/rollouts.py): a plan narrows a release to its step on the CDN
and in the check API, the scheduler ramps it keeping every device that was in, and device events
trip its guardrail, which pauses the release (audited) and the plan."""

from __future__ import annotations

import time

from chalicelib.domain.rollout import bucket
from tests.builders import add_android, batch, deliver_events, event, queued_events
from tests.conftest import ws_path

PHONES = [f"phone-{n:03d}" for n in range(200)]


def offered(demo, *, now: int) -> set[str]:
    from chalicelib.services import checks

    got = set()
    for phone in PHONES:
        context = {"appId": demo["appId"], "workspaceId": demo["workspaceId"], "platform": "android",
                   "clientVersion": "4.0", "deviceId": phone}  # fmt: skip
        if checks.check("upgrade", context, now=now)["resultStatus"] != 201:
            got.add(phone)
    return got


def test_a_plan_ramps_keeps_everyone_in_and_a_guardrail_stops_it(api, admin, demo, aws):
    package = add_android(admin, demo, aws, "5.0")["packageId"]
    task = admin.post(ws_path(demo, f"/upgrade/packages/{package}/tasks"),
                      {"type": "official", "mode": "forced"}).body["taskId"]  # fmt: skip
    release = f"upgrade-task-{task}"
    plan = {"steps": [{"percent": 10, "bakeMinutes": 5}, {"percent": 50, "bakeMinutes": 5},
                      {"percent": 100, "bakeMinutes": 5}],
            "guardrail": {"failurePercent": 20, "minDevices": 5}}  # fmt: skip
    created = admin.put(ws_path(demo, f"/rollouts/{release}"), plan)
    assert created.status == 200 and created.body["percent"] == "10", created.body
    now = int(time.time())

    def expected(percent: int) -> set[str]:
        return {p for p in PHONES if bucket(f"rollout:{release}", p) < percent * 100}

    at_10 = offered(demo, now=now)
    assert at_10 == expected(10) and 5 < len(at_10) < 40  # the same devices a port computes

    from chalicelib.services import rollouts

    assert rollouts.advance(now=now + 60) == 0  # not baked yet
    assert rollouts.advance(now=now + 5 * 60 + 1) == 1
    at_50 = offered(demo, now=now + 301)
    assert at_50 == expected(50) and at_10 <= at_50  # raising a step never removes a device

    # 4 installs and 1 failure among the devices that got it: 20% failed after 5 devices
    outcomes = [("install.finished", None)] * 4 + [("install.failed", "INSTALL_FAILED_VERSION_DOWNGRADE")]
    for phone, (kind, reason) in zip(sorted(at_50), outcomes, strict=False):
        extra = {"reason": reason} if reason else {}
        body = batch(demo, phone, [event(kind, release, **extra)])
        assert api.post("/client/v1/events", body, token="").status == 202
    deliver_events(queued_events(aws))

    state = admin.get(ws_path(demo, f"/rollouts/{release}")).body
    assert state["state"] == "paused" and "1 of 5 devices failed (20%)" in state["reason"]
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{task}")).body["status"] == "paused"
    assert offered(demo, now=now + 302) == set()  # devices see the paused release at once
    audit = admin.get(ws_path(demo, "/audit?entityType=rollout")).body["entries"]
    assert [(e["action"], e["actor"]) for e in audit][:1] == [("rollout.paused", "system:guardrail")]
    assert rollouts.advance(now=now + 3600) == 0  # a paused plan does not ramp


def test_a_bad_plan_names_the_field_and_changes_nothing(admin, demo, aws):
    package = add_android(admin, demo, aws, "5.0")["packageId"]
    task = admin.post(
        ws_path(demo, f"/upgrade/packages/{package}/tasks"), {"type": "official", "mode": "single"}
    ).body["taskId"]
    path = ws_path(demo, f"/rollouts/upgrade-task-{task}")
    for body, field in [
        ({"steps": []}, "steps"),
        (
            {"steps": [{"percent": 50, "bakeMinutes": 5}, {"percent": 20, "bakeMinutes": 5}]},
            "steps[1].percent",
        ),
        ({"steps": [{"percent": 10, "bakeMinutes": 0}]}, "steps[0].bakeMinutes"),
        ({"steps": [{"percent": 10.123, "bakeMinutes": 5}]}, "steps[0].percent"),
        (
            {
                "steps": [{"percent": 10, "bakeMinutes": 5}],
                "guardrail": {"failurePercent": 0, "minDevices": 5},
            },
            "guardrail.failurePercent",
        ),
        ({"steps": [{"percent": 10, "bakeMinutes": 5}], "extra": 1}, "extra"),
    ]:
        reply = admin.put(path, body)
        assert reply.status == 400 and reply.body["field"] == field, (body, reply.body)
    assert admin.get(path).status == 404
    assert (
        admin.put(
            ws_path(demo, "/rollouts/upgrade-task-999"), {"steps": [{"percent": 5, "bakeMinutes": 5}]}
        ).status
        == 404
    )
    assert (
        admin.put(ws_path(demo, "/rollouts/config:k"), {"steps": [{"percent": 5, "bakeMinutes": 5}]}).body[
            "field"
        ]
        == "release"
    )


def test_removing_a_plan_gives_the_release_back_to_everyone(admin, demo, aws):
    package = add_android(admin, demo, aws, "5.0")["packageId"]
    task = admin.post(
        ws_path(demo, f"/upgrade/packages/{package}/tasks"), {"type": "official", "mode": "forced"}
    ).body["taskId"]
    path = ws_path(demo, f"/rollouts/upgrade-task-{task}")
    assert admin.put(path, {"steps": [{"percent": 1, "bakeMinutes": 60}]}).status == 200
    now = int(time.time())
    assert len(offered(demo, now=now)) < 20
    assert admin.delete(path).status == 204
    assert len(offered(demo, now=now)) == len(PHONES)
