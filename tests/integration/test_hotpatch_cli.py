"""`mds hotpatch` against the app over real HTTP (`add` with its upload: tests/e2e/test_hotpatch_story.py)."""

from __future__ import annotations

import json
import re

from chalicelib.security import rsa_keys
from tests.builders import add_patch, app_version


def test_release_lifecycle_rollback_stats_and_keys_from_the_command_line(mds, admin, demo, aws, tmp_path):
    app_version(admin, demo, "5.0")
    p1 = add_patch(admin, demo, aws, b"fix-1")["patchId"]
    p2 = add_patch(admin, demo, aws, b"fix-2")["patchId"]

    wid = admin.post(
        "/api/apps/DEMO_APP/workspaces/default/whitelists", {"name": "qa", "type": "normal", "ids": "alice"}
    )
    gray = mds("hotpatch", "release", p1, "--type", "gray", "--whitelist", wid.body["whitelistId"],
               "--rule", '{"type": "city", "operation": 1, "values": ["Shanghai"]}').output  # fmt: skip
    assert re.search(rf"Created release \d+ of patch {p1}: gray, running\.", gray)
    official = mds("hotpatch", "release", p1, "--type", "official", "--pause-at-failure-percent", "5").output
    assert "pauses at 5% failures after 20 reports" in official
    release = re.search(r"Created release (\d+)", official).group(1)
    assert f"Release {release} is paused." in mds("hotpatch", "pause", release).output
    assert f"Release {release} is running." in mds("hotpatch", "resume", release).output
    assert f"Release {release} is ended." in mds("hotpatch", "end", release).output
    refused = mds("hotpatch", "resume", release, ok=False)
    assert refused.exit_code == 1 and "ended" in refused.output

    listed = json.loads(mds("hotpatch", "releases", "--patch", p1, "--json").stdout)["releases"]
    assert [r["status"] for r in listed] == ["ended", "running"]
    table = mds("hotpatch", "list").output
    assert p1 in table and p2 in table and "ready" in table

    nothing = mds("hotpatch", "rollback", p2, ok=False)
    assert nothing.exit_code == 1 and "nothing to roll back" in nothing.output
    rolled = mds("hotpatch", "rollback", p1).output
    assert f"Rolled back patch {p1} (rollbackSeq 1)" in rolled and "now get no patch" in rolled
    stats = mds("hotpatch", "stats", p1).output
    assert f"Patch {p1} (rolledBack): 0 applied, 0 failed, 0 total." in stats
    assert json.loads(mds("hotpatch", "show", p1).stdout)["status"] == "rolledBack"

    key = rsa_keys.generate_private_key()
    pem = tmp_path / "dev.pub.pem"
    pem.write_text(rsa_keys.public_key_pem(key))
    registered = mds("hotpatch", "keys", "--register-developer-key", str(pem)).output
    assert f"Registered developer key {rsa_keys.key_id(key)}" in registered
    keys = json.loads(mds("hotpatch", "keys", "--json").stdout)
    assert keys["developer"]["keyId"] == rsa_keys.key_id(key) and keys["mds"]["publicKey"].startswith(
        "-----BEGIN"
    )
