"""`mds rollout` and `mds stats` against the app over real HTTP."""

from __future__ import annotations

import json

from tests.builders import add_android


def test_a_plan_from_the_command_line(mds, admin, demo, aws):
    from tests.conftest import ws_path

    package = add_android(admin, demo, aws, "7.0")["packageId"]
    task = admin.post(
        ws_path(demo, f"/upgrade/packages/{package}/tasks"), {"type": "official", "mode": "forced"}
    )
    release = f"upgrade-task-{task.body['taskId']}"

    bad = mds("rollout", "set", release, "--steps", "50,20", ok=False)
    assert bad.exit_code == 1 and "steps[1].percent" in bad.output
    started = mds("rollout", "set", release, "--steps", "10,50,100", "--bake", "30", "--pause-at", "20")
    assert f"{release}: running at step 1 of 3 (10% → 50% → 100%)" in started.output
    shown = mds("rollout", "show", release, "--json").output
    plan = json.JSONDecoder().raw_decode(shown)[0]  # the test server's access log follows it
    assert (
        plan["guardrail"] == {"failurePercent": 20, "minDevices": 100}
        and plan["steps"][1]["bakeMinutes"] == 30
    )
    assert "not paused" in mds("rollout", "resume", release, ok=False).output
    rolled = mds("rollout", "rollback", release)
    assert (
        f"{release}: rolledBack at step 1 of 3" in rolled.output and "rolled back by user:" in rolled.output
    )
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{task.body['taskId']}")).body["status"] == "ended"
    assert "Removed the rollout plan" in mds("rollout", "remove", release).output
    assert "has no rollout plan" in mds("rollout", "show", release, ok=False).output
