"""`mds config` against the app over real HTTP (the upload path of `import`: tests/e2e/test_config_story.py)."""

from __future__ import annotations

import json


def test_config_from_the_command_line(mds, tmp_path):
    added = mds("config", "add", "feed_v2", "--type", "boolean", "--value", "false", "--platform", "android",
                "--targeted", '{"value": true, "rules": [{"type": "city", "operation": 1, "values": ["Shanghai"]}]}').output  # fmt: skip
    assert (
        "Added feed_v2 (boolean, android, active) = false, 1 targeted value; version 1, revision 1" in added
    )
    refused = mds("config", "add", "bad key", "--value", "x", ok=False)
    assert refused.exit_code == 1 and "field: key" in refused.output
    wrong_type = mds("config", "add", "n", "--type", "number", "--value", "ten", ok=False)
    assert wrong_type.exit_code == 1 and "field: value" in wrong_type.output

    mds("config", "set", "feed_v2", "--note", "new feed", "--clear-targeted")
    assert "Disabled feed_v2 (boolean, android, inactive)" in mds("config", "disable", "feed_v2").output
    mds("config", "enable", "feed_v2")
    listed = mds("config", "list", "--keyword", "NEW FEED").output
    assert "feed_v2" in listed and "1 config keys" in listed
    raw = mds("config", "show", "feed_v2", "--json").output  # the local server's log line may follow
    shown = json.JSONDecoder().raw_decode(raw)[0]
    assert shown["note"] == "new feed" and shown["targetedValues"] == [] and shown["version"] == 4

    history = mds("config", "history", "feed_v2").output
    assert "version 4: enable" in history and "active: false -> true" in history
    rolled = mds("config", "rollback", "feed_v2", "--to", "1").output
    assert "Rolled back feed_v2 (boolean, android, active) = false, 1 targeted value; version 5" in rolled

    out = tmp_path / "export.json"
    mds("config", "export", str(out))
    exported = json.loads(out.read_text())
    assert [i["key"] for i in exported["items"]] == ["feed_v2"]
    body_import = tmp_path / "more.json"
    body_import.write_text(json.dumps([*exported["items"], {"key": "x", "type": "number", "value": "NaN"},
                                       {"key": "y", "type": "string", "value": "ok"}]))  # fmt: skip
    imported = mds("config", "import", str(body_import), "--skip-invalid").output
    assert "Imported 1 keys, skipped 1 that exist: feed_v2; 1 invalid." in imported
    assert "items[1].value" in imported
    mds("config", "delete", "y")
    assert mds("config", "show", "y", ok=False).exit_code == 1
