"""`mds upgrade` against the app over real HTTP (files: tests/e2e/test_upgrade_story.py)."""

from __future__ import annotations

import json
import re


def test_packages_and_tasks_from_the_command_line(mds, tmp_path):
    added = mds("upgrade", "package", "add", "--platform", "ios", "--distribution", "appStore",
                "--version", "5.0", "--url", "https://apps.apple.com/app/id1").output  # fmt: skip
    assert "Added package 1: ios appStore 5.0" in added and "toBeReleased" in added
    refused = mds("upgrade", "package", "add", "--platform", "ios", "--distribution", "appStore",
                  "--version", "5.0", "--url", "https://apps.apple.com/app/id1", ok=False)  # fmt: skip
    assert (
        refused.exit_code == 1 and "already exists" in refused.output and "field: version" in refused.output
    )
    wid = re.search(
        r"Created whitelist (\d+)", mds("whitelist", "create", "qa", "--ids", "alice").output
    ).group(1)

    gray = mds("upgrade", "task", "create", "1", "--type", "gray", "--model", "whitelist", "--whitelist", wid,
               "--mode", "forced", "--client-versions", "4.0-4.9",
               "--rule", '{"type": "city", "operation": 1, "values": ["Shanghai"]}', "--memo", "Update!").output  # fmt: skip
    tid = re.search(r"Created task (\d+): gray \(whitelist\), forced \(206\), running\.", gray).group(1)
    bad = mds("upgrade", "task", "create", "1", "--type", "gray", "--model", "timeWindow", "--mode", "single",
              "--end-time", "2001-01-01T00:00:00Z", "--users", "5", ok=False)  # fmt: skip
    assert "field: endTime" in bad.output and "must be in the future" in bad.output

    edited = mds("upgrade", "task", "set", tid, "--memo", "Update now!", "--revision", "1",
                 "--rule", '{"type": "city", "operation": 1, "values": ["Hangzhou"]}').output  # fmt: skip
    assert f"Task {tid} is at revision 2, running." in edited
    fixed = mds("upgrade", "task", "set", tid, "--client-versions", "4.0-6.0", ok=False).output
    assert "field: clientVersions[0]" in fixed and "below the package version" in fixed
    assert json.loads(mds("upgrade", "task", "show", tid).stdout)["rules"][0]["values"] == ["Hangzhou"]
    mds("upgrade", "task", "set", tid, "--rule", '{"type": "city", "operation": 1, "values": ["Shanghai"]}')
    assert f"Task {tid} is paused." in mds("upgrade", "task", "pause", tid).output
    assert f"Task {tid} is running." in mds("upgrade", "task", "resume", tid).output
    tasks = json.loads(mds("upgrade", "task", "list", "--package", "1", "--json").stdout)["tasks"]
    assert [(t["taskId"], t["rules"][0]["values"]) for t in tasks] == [(tid, ["Shanghai"])]
    assert "grayRelease" in mds("upgrade", "package", "list").output

    blocked = mds("upgrade", "package", "delete", "1", ok=False)
    assert f"task {tid} (whitelist, running)" in blocked.output
    assert f"Task {tid} is ended." in mds("upgrade", "task", "end", tid).output
    assert "cannot be continued" in mds("upgrade", "task", "resume", tid, ok=False).output

    qr = tmp_path / "qr.png"
    shown = mds("upgrade", "package", "show", "1", "--qr", str(qr)).output
    assert "finished" in shown and "https://apps.apple.com/app/id1" in shown
    assert qr.read_bytes().startswith(b"\x89PNG")
    assert "Deleted package 1." in mds("upgrade", "package", "delete", "1").output
    assert json.loads(mds("upgrade", "package", "list", "--json").stdout)["packages"] == []
