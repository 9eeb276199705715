"""A newcomer's first day against the running local stack, through the `mds` CLI and the official SDK:
log in with bootstrap.json, create a user and an AccessKey, import a whitelist file through S3 and the
event worker, see it all in the audit log, restart, and find everything still there."""

from __future__ import annotations

import json
import os

import pytest
from alibabacloud_mpaas20201028 import models
from alibabacloud_mpaas20201028.client import Client

from tests.e2e.cli import mds
from tests.mpaas_sdk import sdk_config
from tests.sdk_capture import no_proxy_env

pytestmark = pytest.mark.e2e


def test_first_day(local_stack, tmp_path):
    session = tmp_path / "session.json"
    bootstrap = local_stack.data_dir / "bootstrap.json"
    assert "Logged in" in mds(local_stack, session, "login", "--bootstrap", str(bootstrap))
    mds(
        local_stack,
        session,
        "users",
        "create",
        "day1.viewer",
        "--role",
        "viewer",
        "--password",
        "a-long-password",
    )
    key = json.loads(mds(local_stack, session, "keys", "create", "--role", "release_manager", "--json"))

    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(f"device-user-{n}" for n in range(20000)))
    mds(local_stack, session, "whitelist", "create", "day1-beta")
    wid = json.loads(mds(local_stack, session, "whitelist", "list", "--json"))["whitelists"][-1][
        "whitelistId"
    ]
    assert "imported 20000" in mds(local_stack, session, "whitelist", "import", wid, str(ids))

    actions = [e["action"] for e in json.loads(mds(local_stack, session, "audit", "--json"))["entries"]]
    for expected in ("user.create", "access_key.create", "whitelist.create", "whitelist.import"):
        assert expected in actions

    # the new AccessKey authenticates the official mPaaS SDK
    creds = json.loads(bootstrap.read_text())
    client = Client(
        sdk_config(local_stack.api_url.removeprefix("http://"), key["accessKeyId"], key["accessKeySecret"])
    )
    with no_proxy_env():
        listed = client.list_mcube_nebula_apps(
            models.ListMcubeNebulaAppsRequest(
                app_id=creds["appId"], workspace_id=creds["workspaceId"], page_num=1, page_size=10
            )
        )
    assert listed.body.result_code == "OK"

    local_stack.restart()

    users = json.loads(mds(local_stack, session, "users", "list", "--json"))["users"]
    assert "day1.viewer" in {u["username"] for u in users}
    keys = json.loads(mds(local_stack, session, "keys", "list", "--json"))["accessKeys"]
    assert key["accessKeyId"] in {k["accessKeyId"] for k in keys}
    listed = json.loads(
        mds(local_stack, session, "whitelist", "show", wid, "--search", "user-1999", "--json")
    )
    assert listed["count"] == 20000 and "device-user-1999" in listed["members"]["ids"]
    assert os.stat(session).st_mode & 0o777 == 0o600
