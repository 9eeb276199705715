"""Issue 18's story, on moto through the real HTTP surface: an upgrade with a rollout plan 10% → 50% →
100% over 2,000 simulated devices that report what happened; the scheduler ramps it keeping every
device that was in; a burst of install failures trips the guardrail, which pauses the release (the
audit log says why); a rollback restores what every device had before; bad event input is refused,
naming the field, and changes no count."""

from __future__ import annotations

import pytest

from chalicelib.domain.rollout import bucket
from tests.builders import add_android, batch, deliver_events, event, queued_events
from tests.conftest import ws_path
from tests.delivery_harness import BucketCdn, ChaliceApi

DEVICES = [f"device-{n:04d}" for n in range(2000)]


def answers(demo, tmp_path, client) -> dict[str, int | None]:
    """The upgrade task each device is offered (None: up to date), as the reference device client
    computes it from the signed manifests on the CDN (one phone's cache, 2,000 identities; nothing is
    published during a round, so the CDN edge serves each file from its cache after the first read)."""
    from chalicelib.domain.targeting import Device
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import signing_keys
    from mds.device.client import DeviceClient

    tenant = TenantId.parse(demo["appId"], demo["workspaceId"])
    phone = DeviceClient("http://cdn", "http://api", app_id=tenant.app_id, workspace_id=tenant.workspace_id,
                         public_keys=signing_keys.public_keys(tenant), state_dir=tmp_path / "phone",
                         transport=BucketCdn(edge_cache=True), api_transport=ChaliceApi(client))  # fmt: skip
    got = {}
    for device in DEVICES:
        answer = phone.check("upgrade", Device("android", device_id=device, client_version="3.0")).answer
        got[device] = answer.get("taskId")
    return got


def report(api, demo, devices, release: str, *kinds: str, reason: str | None = None) -> None:
    for device in devices:
        events = [
            event(kind, release, **({"reason": reason} if kind.endswith("failed") else {})) for kind in kinds
        ]
        assert (
            api.post("/client/v1/events", batch(demo, device, events, version="3.0"), token="").status == 202
        )


def funnel(admin, demo, release: str) -> dict[str, int]:
    return admin.get(ws_path(demo, f"/reach/{release}")).body["funnel"]


def test_a_ramped_release_is_stopped_by_its_guardrail_and_rolled_back(
    api, admin, demo, aws, client, tmp_path
):
    old = add_android(admin, demo, aws, "4.0")["packageId"]
    old_task = admin.post(
        ws_path(demo, f"/upgrade/packages/{old}/tasks"), {"type": "official", "mode": "multiple"}
    )
    before = answers(demo, tmp_path, client)
    assert set(before.values()) == {old_task.body["taskId"]}

    new = add_android(admin, demo, aws, "5.0")["packageId"]
    task = admin.post(ws_path(demo, f"/upgrade/packages/{new}/tasks"), {"type": "official", "mode": "forced"})
    release, task_id = f"upgrade-task-{task.body['taskId']}", task.body["taskId"]
    plan = {"steps": [{"percent": 10, "bakeMinutes": 60}, {"percent": 50, "bakeMinutes": 60},
                      {"percent": 100, "bakeMinutes": 60}],
            "guardrail": {"failurePercent": 10, "minDevices": 100}}  # fmt: skip
    started = admin.put(ws_path(demo, f"/rollouts/{release}"), plan)
    assert started.status == 200, started.body
    now = started.body["stepStartedAt"]

    # step 1: 10% — exactly the devices whose stable bucket is under 10%, everyone else keeps 4.0
    at_10 = {d for d, t in answers(demo, tmp_path, client).items() if t == task_id}
    assert at_10 == {d for d in DEVICES if bucket(f"rollout:{release}", d) < 1000}
    assert 150 < len(at_10) < 250
    report(
        api, demo, at_10, release, "check.answered", "prompt.shown", "download.finished", "install.finished"
    )
    deliver_events(queued_events(aws))
    assert funnel(admin, demo, release) == {"offered": len(at_10), "prompted": len(at_10), "downloadStarted": 0,
                                            "downloaded": len(at_10), "downloadFailed": 0,
                                            "installed": len(at_10), "installFailed": 0}  # fmt: skip
    assert admin.get(ws_path(demo, f"/rollouts/{release}")).body["percent"] == "10"

    # the scheduler ramps to 50% once the step has baked: nobody who had it loses it
    from chalicelib.services import rollouts

    assert rollouts.advance(now=now + 60 * 60 + 1) == 1
    at_50 = {d for d, t in answers(demo, tmp_path, client).items() if t == task_id}
    assert at_10 < at_50 and 850 < len(at_50) < 1150
    assert admin.get(ws_path(demo, f"/rollouts/{release}")).body["percent"] == "50"

    # the newly reached devices install; a burst of them fails (disk full)
    newly = sorted(at_50 - at_10)
    failing, fine = newly[:150], newly[150:]
    report(api, demo, fine, release, "check.answered", "install.finished")
    report(
        api,
        demo,
        failing,
        release,
        "check.answered",
        "install.failed",
        reason="INSTALL_FAILED_INSUFFICIENT_STORAGE",
    )
    deliver_events(queued_events(aws))

    state = admin.get(ws_path(demo, f"/rollouts/{release}")).body
    assert state["state"] == "paused" and state["percent"] == "50", state
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{task_id}")).body["status"] == "paused"
    entries = admin.get(ws_path(demo, "/audit?entityType=rollout")).body["entries"]
    paused = next(e for e in entries if e["action"] == "rollout.paused")
    assert paused["actor"] == "system:guardrail" and paused["detail"] == state["reason"]
    assert state["reason"].startswith("guardrail: ") and "threshold 10% after 100 devices" in state["reason"]
    reach = admin.get(ws_path(demo, f"/reach/{release}")).body
    assert reach["funnel"]["installFailed"] == 150
    assert reach["failures"]["install"] == {"INSTALL_FAILED_INSUFFICIENT_STORAGE": 150}

    # bad event input: refused with the field named, and no count moves
    counted = funnel(admin, demo, release)
    bad = [
        ({"type": "install.exploded"}, "events[0].type"),
        ({"type": "install.failed"}, "events[0].reason"),
        ({"release": "upgrade-task-"}, "events[0].release"),
        ({"at": "yesterday"}, "events[0].at"),
    ]
    for change, field in bad:
        body = batch(demo, "device-bad", [{**event("install.finished", release), **change}], version="3.0")
        refused = api.post("/client/v1/events", body, token="")
        assert (refused.status, refused.body["field"]) == (400, field), refused.body
    deliver_events(queued_events(aws))
    assert funnel(admin, demo, release) == counted

    # roll back: the release ends, every device has exactly what it had before the release
    rolled = admin.post(ws_path(demo, f"/rollouts/{release}/rollback"), {})
    assert rolled.status == 200 and rolled.body["state"] == "rolledBack", rolled.body
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{task_id}")).body["status"] == "ended"
    assert answers(demo, tmp_path, client) == before
    entries = admin.get(ws_path(demo, "/audit?entityType=rollout")).body["entries"]
    assert entries[0]["action"] == "rollout.rolledBack" and entries[0]["actor"] == f"user:{demo['username']}"
    again = admin.post(ws_path(demo, f"/rollouts/{release}/rollback"), {})
    assert again.status == 409


@pytest.mark.parametrize("paused_release", [True, False])
def test_a_paused_plan_resumes_at_its_step(api, admin, demo, aws, paused_release):
    package = add_android(admin, demo, aws, "6.0")["packageId"]
    task_id = admin.post(ws_path(demo, f"/upgrade/packages/{package}/tasks"),
                         {"type": "official", "mode": "forced"}).body["taskId"]  # fmt: skip
    release = f"upgrade-task-{task_id}"
    path = ws_path(demo, f"/rollouts/{release}")
    assert admin.post(path + "/resume", {}).status == 404  # no plan yet
    plan = {"steps": [{"percent": 20, "bakeMinutes": 5}, {"percent": 100, "bakeMinutes": 5}],
            "guardrail": {"failurePercent": 50, "minDevices": 2}}  # fmt: skip
    assert admin.put(path, plan).status == 200
    assert admin.post(path + "/resume", {}).status == 409  # running: nothing to resume
    report(api, demo, ["d1", "d2"], release, "install.failed", reason="BOOM")
    deliver_events(queued_events(aws))
    assert admin.get(path).body["state"] == "paused"
    if not paused_release:  # someone continued the task by hand; resuming the plan still works
        assert (
            admin.post(ws_path(demo, f"/upgrade/tasks/{task_id}/status"), {"action": "continue"}).status
            == 200
        )
    resumed = admin.post(path + "/resume", {})
    assert resumed.status == 200 and (resumed.body["state"], resumed.body["percent"]) == ("running", "20")
    assert "reason" not in resumed.body
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{task_id}")).body["status"] == "running"
