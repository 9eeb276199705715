"""Issue 6's story on the running local stack, through the CLI, the S3 upload, the CDN manifests and the
reference client: add an APK, whitelist-gray it to 2 users with a city rule, official-release it, pause,
end — asserting what different simulated devices get at each step, statically (CDN) and dynamically
(the check API), which must agree."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from tests import app_files
from tests.e2e.cli import mds
from tests.sdk_capture import no_proxy_env

pytestmark = pytest.mark.e2e

PHONES = {  # user, city — all Android 6.0 clients
    "alice": ("alice", "Shanghai"),  # whitelisted, in the rule's city
    "bob": ("bob", "Beijing"),  # whitelisted, other city
    "carol": ("carol", "Shanghai"),  # not whitelisted
}


def device_check(stack, session, tmp_path, who: str) -> dict:
    user, city = PHONES[who]
    out = mds(stack, session, "device", "check", "upgrade", "--platform", "android", "--version", "6.0",
              "--user", user, "--city", city, "--net", "WIFI", "--cdn", stack.cdn_url)  # fmt: skip
    return json.loads(out)


def api_check(stack, who: str, creds: dict) -> dict:
    user, city = PHONES[who]
    body = {"appId": creds["appId"], "workspaceId": creds["workspaceId"], "platform": "android",
            "clientVersion": "6.0", "userId": user, "deviceId": f"sim-{user}", "city": city, "netType": "WIFI"}
    with no_proxy_env():
        reply = requests.post(f"{stack.api_url}/client/v1/upgrade/check", json=body, timeout=10)
    reply.raise_for_status()
    return reply.json()


def statuses(stack, session, tmp_path, creds) -> dict[str, tuple[int, str]]:
    seen = {}
    for who in PHONES:
        static = device_check(stack, session, tmp_path, who)
        dynamic = api_check(stack, who, creds)
        assert static["answer"] == dynamic, who  # the CDN path and the API path agree
        seen[who] = (static["answer"]["resultStatus"], static["answeredFrom"])
    return seen


def test_gray_then_official_then_pause_then_end(local_stack, tmp_path):
    session = tmp_path / "session.json"
    bootstrap = local_stack.data_dir / "bootstrap.json"
    creds = json.loads(bootstrap.read_text())
    mds(local_stack, session, "login", "--bootstrap", str(bootstrap))
    apk = tmp_path / "app.apk"
    apk.write_bytes(app_files.apk("7.0.0"))
    added = mds(local_stack, session, "upgrade", "package", "add", "--platform", "android", "--version", "7.0",
                "--file", str(apk))  # fmt: skip
    package = re.search(r"Added package (\d+)", added).group(1)
    mds(local_stack, session, "whitelist", "create", "story-testers", "--ids", "alice,bob")
    wid = json.loads(mds(local_stack, session, "whitelist", "list", "--json"))["whitelists"][-1]["whitelistId"]

    assert statuses(local_stack, session, tmp_path, creds) == {w: (201, "cdn") for w in PHONES}

    gray = mds(local_stack, session, "upgrade", "task", "create", package, "--type", "gray", "--mode", "forced",
               "--model", "whitelist", "--whitelist", wid,
               "--rule", '{"type": "city", "operation": 1, "values": ["Shanghai"]}')  # fmt: skip
    gray_id = re.search(r"Created task (\d+)", gray).group(1)
    assert statuses(local_stack, session, tmp_path, creds) == {
        "alice": (206, "cdn"), "bob": (201, "cdn"), "carol": (201, "cdn")}

    official = mds(local_stack, session, "upgrade", "task", "create", package, "--type", "official", "--mode", "single")
    official_id = re.search(r"Created task (\d+)", official).group(1)
    assert statuses(local_stack, session, tmp_path, creds) == {w: (202, "cdn") for w in PHONES}  # official wins
    user, city = PHONES["alice"]
    every = json.loads(mds(local_stack, session, "device", "check", "all", "--platform", "android", "--version",
                           "6.0", "--user", user, "--city", city, "--net", "WIFI", "--cdn", local_stack.cdn_url))  # fmt: skip
    assert sorted(every["products"]) == ["config", "h5", "hotpatch", "upgrade"]
    assert every["products"]["upgrade"]["answer"]["resultStatus"] == 202
    assert {d["answeredFrom"] for d in every["products"].values()} == {"cdn"}
    index = f"GET /m/{creds['appId']}/{creds['workspaceId']}/android/index.json "
    assert [r.split()[1] for r in every["requests"] if "index.json" in r] == [index.split()[1]]  # one for all four
    assert every["nextCheckAt"] > time.time()

    mds(local_stack, session, "upgrade", "task", "pause", official_id)
    assert statuses(local_stack, session, tmp_path, creds) == {
        "alice": (206, "cdn"), "bob": (201, "cdn"), "carol": (201, "cdn")}  # the gray task is next in line

    mds(local_stack, session, "upgrade", "task", "end", gray_id)
    mds(local_stack, session, "upgrade", "task", "end", official_id)
    assert statuses(local_stack, session, tmp_path, creds) == {w: (201, "cdn") for w in PHONES}
