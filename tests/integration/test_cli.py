"""The `mds` CLI against the app over real HTTP: login, users, keys, audit, AccessKey mode."""

from __future__ import annotations

import json
import stat

import pytest


@pytest.fixture
def mds(mds_logged_out):
    """These tests log in themselves."""
    return mds_logged_out


def test_login_with_bootstrap_file_then_manage_users_and_keys(mds, demo, tmp_path):
    bootstrap = tmp_path / "bootstrap.json"
    bootstrap.write_text(json.dumps(demo))
    result = mds("login", "--bootstrap", str(bootstrap))
    assert "Logged in" in result.output and "DEMO_APP/default" in result.output
    session_file = tmp_path / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600

    mds("users", "create", "release.bob", "--role", "release_manager", "--password", "bob-password-1")
    listed = json.loads(mds("users", "list", "--json").stdout)
    assert {u["username"]: u["role"] for u in listed["users"]} == {
        "admin": "admin",
        "release.bob": "release_manager",
    }

    created = json.loads(mds("keys", "create", "--role", "viewer", "--description", "CI", "--json").stdout)
    assert created["accessKeySecret"]
    keys = json.loads(mds("keys", "list", "--json").stdout)["accessKeys"]
    assert created["accessKeyId"] in {k["accessKeyId"] for k in keys}
    assert all("accessKeySecret" not in k for k in keys)

    entries = json.loads(mds("audit", "--json").stdout)["entries"]
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["access_key.create", "user.create"]
    table = mds("audit").output
    assert "access_key.create" in table


def test_access_key_mode_for_ci(mds, demo, monkeypatch):
    monkeypatch.setenv("MDS_ACCESS_KEY_ID", demo["accessKeyId"])
    monkeypatch.setenv("MDS_ACCESS_KEY_SECRET", demo["accessKeySecret"])
    monkeypatch.setenv("MDS_APP_ID", demo["appId"])
    monkeypatch.setenv("MDS_WORKSPACE_ID", demo["workspaceId"])
    listed = json.loads(mds("users", "list", "--json").stdout)
    assert [u["username"] for u in listed["users"]] == ["admin"]
    monkeypatch.setenv("MDS_ACCESS_KEY_SECRET", "wrong")
    result = mds("users", "list", ok=False)
    assert result.exit_code == 1
    assert "SignatureDoesNotMatch" in result.output


def test_errors_are_one_clear_line(mds, demo, tmp_path):
    bootstrap = tmp_path / "bootstrap.json"
    bootstrap.write_text(json.dumps(demo))
    mds("login", "--bootstrap", str(bootstrap))
    result = mds("users", "create", "x", "--password", "short", ok=False)
    assert result.exit_code == 1
    assert "InvalidParameter" in result.output and "field: username" in result.output
    assert "Traceback" not in result.output


def test_not_logged_in(mds):
    result = mds("users", "list", ok=False)
    assert result.exit_code == 1 and "mds login" in result.output


def test_whitelist_commands(mds, demo, tmp_path):
    bootstrap = tmp_path / "bootstrap.json"
    bootstrap.write_text(json.dumps(demo))
    mds("login", "--bootstrap", str(bootstrap))
    assert "Created whitelist 1" in mds("whitelist", "create", "testers", "--ids", "a,b").output
    assert "added 2, unchanged 1" in mds("whitelist", "add", "1", "b", "c,d").output
    assert "removed 1" in mds("whitelist", "remove", "1", "a").output
    shown = json.loads(mds("whitelist", "show", "1", "--json").stdout)
    assert shown["members"]["ids"] == ["b", "c", "d"]
    mds("whitelist", "create", "staff", "--type", "regex", "--pattern", r"staff_\d+")
    listed = json.loads(mds("whitelist", "list", "--json").stdout)["whitelists"]
    assert [(w["name"], w["type"]) for w in listed] == [("testers", "normal"), ("staff", "regex")]
    bad = mds("whitelist", "create", "evil", "--type", "regex", "--pattern", "(a|aa)+$", ok=False)
    assert bad.exit_code == 1 and "patterns[0]" in bad.output
    mds("whitelist", "delete", "1")
    assert "NotFound" in mds("whitelist", "show", "1", ok=False).output


def test_rules_commands(mds, demo, tmp_path):
    bootstrap = tmp_path / "bootstrap.json"
    bootstrap.write_text(json.dumps(demo))
    mds("login", "--bootstrap", str(bootstrap))
    assert (
        "Added rule 1"
        in mds("rules", "add", "Shanghai", "Shanghai", "--type", "city", "--platform", "android").output
    )
    mds("rules", "add", "Wi-Fi", "wifi", "--type", "network")
    assert "'Beijing'" in mds("rules", "update", "1", "--value", "Beijing").output
    listed = json.loads(mds("rules", "list", "--json").stdout)["releaseRules"]
    assert [(r["type"], r["value"]) for r in listed] == [("city", "Beijing"), ("network", "Wi-Fi")]
    bad = mds("rules", "add", "x", "6G", "--type", "network", ok=False)
    assert bad.exit_code == 1 and "field: value" in bad.output
    assert "Deleted 1, 2" in mds("rules", "delete", "1", "2").output
    assert json.loads(mds("rules", "list", "--json").stdout)["releaseRules"] == []
