"""`mds h5` list and status commands against the app over real HTTP (uploads and the whole story:
tests/e2e/test_h5_story.py)."""

from __future__ import annotations

import json

from tests.builders import H5
from tests.integration.test_h5_delivery import setup, task, whitelist  # noqa: F401 - fixtures


def test_list_versions_and_tasks_and_move_a_task_from_the_command_line(mds, admin, demo, setup):  # noqa: F811
    v2 = setup["v2"]
    qa = whitelist(admin, demo, "alice")
    gray = task(admin, demo, v2, type="gray", grayModel="whitelist", whitelistIds=[qa])["taskId"]
    assert H5 in mds("h5", "apps").output
    assert json.loads(mds("h5", "apps", "--json").stdout)["total"] == 1
    versions = json.loads(mds("h5", "resources", H5, "--json").stdout)["items"]
    assert [v["version"] for v in versions] == ["1.0.0.2", "1.0.0.1"]
    assert "1.0.0.2" in mds("h5", "resources", H5).output
    listed = json.loads(mds("h5", "tasks", v2["id"], "--json").stdout)["tasks"]
    assert [t["taskId"] for t in listed] == [gray]
    assert f"Task {gray} is paused." in mds("h5", "pause", gray).output
    assert f"Task {gray} is running." in mds("h5", "resume", gray).output
    assert f"Task {gray} is ended." in mds("h5", "end", gray).output
    refused = mds("h5", "resume", gray, ok=False)
    assert refused.exit_code == 1 and "ended" in refused.output
    assert "ended" in mds("h5", "tasks", v2["id"]).output
