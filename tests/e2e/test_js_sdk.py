"""The TypeScript SDK (clients/js, built) on Node against the running local stack: PRODUCT.md stories 1
(upgrade priority), 4 (H5 release), 7 (config) and 8 (hotpatch rollback) through the SDK, and an
agreement run — random devices against a random release set, where the SDK's answers must equal the
Python reference client's and the dynamic check API's. Each story seeds its own workspace through the
CLI, so the other stories sharing the stack cannot change its answers."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import requests

from chalicelib.security import rsa_keys
from tests import h5_zips
from tests.builders import wait_for
from tests.e2e.conftest import PROJECT_DIR
from tests.e2e.sdk_harness import (
    DriverPhones,
    Workspace,
    agreement,
    android,
    events_story,
    random_device,
    result_statuses,
    seed_random_releases,
)
from tests.e2e.test_config_story import ITEMS, SHANGHAI_ANDROID_10
from tests.sdk_capture import no_proxy_env

pytestmark = pytest.mark.e2e

JS = PROJECT_DIR / "clients" / "js"
H5 = "12345678"


class NodePhones(DriverPhones):
    """Phones on the built SDK: one Node process (clients/js/scripts/device-server.mjs), JSON lines."""

    def __init__(self, ws: Workspace, **setup) -> None:
        super().__init__(
            ["node", str(JS / "scripts" / "device-server.mjs")], ws,
            env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"}, stateDir=str(ws.tmp / "js"), **setup,
        )  # fmt: skip


@pytest.fixture(scope="module")
def built_sdk():
    """The SDK as `make test-js` builds it (its node_modules come from `npm ci`; nothing is downloaded here)."""
    if not (JS / "node_modules").is_dir():
        pytest.fail("clients/js/node_modules is missing: run `make test-js` first")
    subprocess.run(["npm", "run", "build"], cwd=JS, check=True, capture_output=True)


@pytest.fixture
def workspace(local_stack, tmp_path, built_sdk):
    return Workspace(local_stack, tmp_path, prefix="JS")


def test_story_1_upgrade_priority(workspace):
    ws = workspace
    p50 = ws.package("5.0")
    wid = ws.whitelist(["alice"])
    gray = ("--type", "gray", "--model", "whitelist", "--whitelist", wid, "--client-versions", "4.0-4.0")
    ws.task(p50, *gray, "--mode", "single", "--memo", "A")
    task_b = ws.task(p50, *gray, "--mode", "forced", "--memo", "B")
    phones = NodePhones(ws)
    alice, bob = android("alice", "4.0"), android("bob", "4.0")

    def status(device: dict) -> tuple[str, int | None, str]:
        got = phones.call("upgrade.check", phone=device["userId"], device=device)
        assert got["answer"] == ws.dynamic("upgrade", device)  # the SDK and the API agree
        return got["result"], got["resultStatus"], got["guideMemo"]

    assert status(alice) == ("HAS_NEW_VERSION", 206, "B")
    assert status(bob) == ("HAS_NO_NEW_VERSION", 201, "")
    ws.cli("upgrade", "task", "pause", task_b)
    assert status(alice) == ("HAS_NEW_VERSION", 202, "A")
    ws.task(
        p50, "--type", "official", "--mode", "multiple", "--client-versions", "4.0-4.0", "--memo", "official"
    )
    assert status(alice) == status(bob) == ("HAS_NEW_VERSION", 204, "official")
    p51 = ws.package("5.1")
    ws.task(p51, "--type", "official", "--mode", "forced", "--client-versions", "4.0-4.0", "--memo", "5.1")
    assert status(alice) == status(bob) == ("HAS_NEW_VERSION", 206, "5.1")
    checked = phones.call("upgrade.check", phone="alice", device=alice)
    assert checked["newestVersion"] == "5.1" and checked["static"] and checked["prompt"]
    phones.close()


def test_story_4_h5_release(workspace):
    ws = workspace
    key = ws.tmp / "h5.pem"
    key.write_bytes(rsa_keys.private_key_pem(rsa_keys.generate_private_key()))
    public_pem = ws.tmp / "h5.pub.pem"
    ws.cli("h5", "key", "--file", str(key), "--public-out", str(public_pem))
    ws.cli("h5", "vhost", "h5app.com")
    ws.cli("h5", "add-app", H5, "--name", "Home", "--type", "normal")
    made = {}
    for version, content in (("1.0.0.1", "1"), ("1.0.0.2", "2")):
        package = h5_zips.normal(ws.tmp / f"{version}.zip", version=content)
        printed = ws.cli("h5", "upload", H5, "--file", str(package), "--version", version,
                         "--min", "10.1.32;10.2.0", "--main-url", "/www/index.html", "--json")  # fmt: skip
        made[version] = json.loads(printed[printed.index("{") :])
    wid = ws.whitelist(["alice"])
    ws.cli("h5", "release", made["1.0.0.1"]["id"], "--type", "official")
    gray = ws.cli("h5", "release", made["1.0.0.2"]["id"], "--type", "gray", "--gray-model", "whitelist",
                  "--whitelist", wid)  # fmt: skip
    gray_id = re.search(r"Task (\d+)", gray).group(1)
    phones = NodePhones(ws, h5PublicKey=public_pem.read_text())
    alice = android("alice", "10.2.0")
    bob = {"platform": "ios", "userId": "bob", "clientVersion": "10.1.40"}
    page = f"https://{H5}.h5app.com/www/index.html"

    synced = phones.call("h5.sync", phone="alice", device=alice)
    assert synced[H5] == {"version": "1.0.0.2", "status": "installed", "error": None}
    assert base64.b64decode(phones.call("h5.read", phone="alice", url=page)) == h5_zips.INDEX_HTML + b"2"
    assert phones.call("h5.sync", phone="bob", device=bob)[H5]["version"] == "1.0.0.1"
    old_ios = {"platform": "ios", "userId": "dave", "clientVersion": "10.1.4"}
    assert phones.call("h5.sync", phone="dave", device=old_ios) == {}  # story 5: 10.1.4 < 10.1.32

    ws.cli("h5", "end", gray_id)
    back = phones.call("h5.sync", phone="alice", device=alice)
    # installType 0 (install on open, the upload's default): staged now, in use once the page opens
    assert back[H5] == {"version": "1.0.0.1", "status": "staged", "error": None}
    assert phones.call("h5.installed", phone="alice") == {H5: "1.0.0.2"}
    assert base64.b64decode(phones.call("h5.read", phone="alice", url=page)) == h5_zips.INDEX_HTML + b"1"
    assert phones.call("h5.installed", phone="alice") == {H5: "1.0.0.1"}
    with no_proxy_env():
        assert requests.get(made["1.0.0.2"]["amrUrl"], timeout=10).status_code == 404
    phones.close()


def test_story_7_config(workspace):
    ws = workspace
    ws.cli("config", "add", "max_items", "--type", "number", "--value", "20")
    source = ws.tmp / "config.json"
    source.write_text(json.dumps({"schema": 1, "items": ITEMS}))
    assert "Imported 2 keys, skipped 1 that exist: max_items." in ws.cli("config", "import", str(source))
    phones = NodePhones(ws)
    alice = android("alice", "5.0", city="Shanghai", osVersion="11")
    phones.call("config.listen", phone="alice", key="feed_v2")
    assert phones.call("config.load", phone="alice", device=alice) == ["banner.text", "feed_v2", "max_items"]
    assert phones.call("config.get", phone="alice", key="max_items") == 20

    rule = {"value": True, **SHANGHAI_ANDROID_10, "rollout": {"percent": 20}}
    ws.cli("config", "set", "feed_v2", "--targeted", json.dumps(rule))
    crowd = [android(f"user{n}", "5.0", city="Shanghai", osVersion="11") for n in range(60)]

    def who_is_in() -> set[int]:
        inside = set()
        for n, device in enumerate(crowd):
            phones.call("config.load", phone=device["userId"], device=device)
            if phones.call("config.get", phone=device["userId"], key="feed_v2") is True:
                inside.add(n)
        return inside

    at_20 = who_is_in()
    assert 2 <= len(at_20) <= 25 and who_is_in() == at_20  # stable across reloads
    ws.cli("config", "set", "feed_v2", "--targeted", json.dumps({**rule, "rollout": {"percent": 40}}))
    at_40 = who_is_in()
    assert at_20 < at_40  # raising the percentage keeps everyone who was in

    ws.cli("config", "set", "feed_v2", "--targeted", json.dumps({**rule, "rollout": {"percent": 100}}))
    assert phones.call("config.load", phone="alice", device=alice) == ["feed_v2"]
    assert phones.call("config.load", phone="alice", device=alice) == []  # unchanged: no listener call
    assert phones.call("config.events", phone="alice") == [["feed_v2", False], ["feed_v2", True]]
    phones.close()


def test_story_8_hotpatch_rollback(workspace):
    ws = workspace
    ws.package("5.0")

    def add(name: str, content: bytes) -> str:
        path = ws.tmp / name
        path.write_bytes(content)
        out = ws.cli("hotpatch", "add", "--file", str(path), "--platform", "android", "--app-version", "5.0")
        return re.search(r"Added patch (\d+)", out).group(1)

    p1 = add("fix1.js", b"patch('feed', 'null check');")
    ws.cli("hotpatch", "release", p1, "--type", "official")
    keys = ws.api("GET", "/hotpatch/keys")
    phones = NodePhones(ws, patchKeys={keys["mds"]["keyId"]: keys["mds"]["publicKey"]})
    devices = [android(user, "5.0") for user in ("alice", "bob")]
    for device in devices:
        assert phones.call("hotpatch.sync", phone=device["userId"], device=device)["applied"] == p1

    p2 = add("fix2.js", b"patch('feed', 'faster');")
    ws.cli("hotpatch", "release", p2, "--type", "official")
    cached = {}
    for device in devices:
        synced = phones.call("hotpatch.sync", phone=device["userId"], device=device)
        assert synced["applied"] == p2 and synced["actions"] == [f"applied {p2}"]
        cached[device["userId"]] = synced["answer"]
    ws.cli("hotpatch", "rollback", p2)
    for device in devices:
        back = phones.call("hotpatch.sync", phone=device["userId"], device=device)
        assert (
            back["static"] and back["applied"] == p1 and back["actions"] == [f"removed {p2}", f"applied {p1}"]
        )
        # the manifest cached before the rollback cannot bring P2 back
        assert (
            phones.call(
                "hotpatch.replay", phone=device["userId"], device=device, answer=cached[device["userId"]]
            )
            == p1
        )
    phones.close()


def test_time_window_grant_stays_on_the_phone(workspace):
    """Client protocol 2 on the real stack: the place in a time window the check API gives a phone comes
    with a signed grant the SDK keeps in its storage and re-verifies; once the window is full (published
    closed) the phone still gets its release with no API call, also after the app restarts, while
    another phone skips the closed window without asking. The API agrees with both."""
    ws = workspace
    ws.package("5.0")
    end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    task = ws.task(ws.package("5.1"), "--type", "gray", "--model", "timeWindow", "--end-time", end, "--users", "1",
                   "--mode", "forced", "--client-versions", "5.0-5.0", "--memo", "window")  # fmt: skip
    alice, bob = android("alice", "5.0"), android("bob", "5.0")
    phones = NodePhones(ws)
    first = phones.call("upgrade.check", phone="alice", device=alice)
    assert (first["resultStatus"], first["static"]) == (206, False)  # the window is open: the API is asked
    grants = phones.call("delivery.grants", phone="alice")
    assert [(g["candidate"], g["identity"]) for g in grants] == [
        (f"upgrade-task-{task}", hashlib.sha256(b"alice").hexdigest())
    ]

    def bob_skips_without_asking() -> bool:
        checked = phones.call("upgrade.check", phone="bob", device=bob)
        assert checked["resultStatus"] == 201  # the only place is alice's
        return checked["static"]

    wait_for(bob_skips_without_asking, what="the full window published closed")
    held = phones.call("upgrade.check", phone="alice", device=alice)
    assert (held["resultStatus"], held["guideMemo"], held["static"]) == (206, "window", True)
    phones.close()

    restarted = NodePhones(ws)  # a new process on the same storage: the grant is still there
    again = restarted.call("upgrade.check", phone="alice", device={**alice, "netType": "4G"})
    assert (again["resultStatus"], again["static"]) == (206, True)
    assert (
        ws.dynamic("upgrade", alice)["resultStatus"] == 206
        and ws.dynamic("upgrade", bob)["resultStatus"] == 201
    )
    round_ = restarted.call("delivery.round", phone="alice", device=alice)
    assert round_["requests"][0] == f"GET /m/{ws.app_id}/{ws.workspace_id}/android/index.json 304"
    assert "POST /client/v1/upgrade/check 200" not in round_["requests"]
    assert round_["decisions"]["upgrade"]["answer"]["resultStatus"] == 206
    assert set(round_["decisions"]) | set(round_["errors"]) == {"upgrade", "h5", "config", "hotpatch"}
    restarted.close()


def test_agreement_of_250_random_devices(workspace):
    rng = random.Random(20261203)
    ws = workspace
    seed_random_releases(ws, rng)
    devices = [random_device(rng, n) for n in range(250)]
    phones = NodePhones(ws)
    disagreements = agreement(ws, phones, devices)
    phones.close()
    assert disagreements == [], f"{len(disagreements)} disagreements, first: {disagreements[:1]}"
    assert len(result_statuses(ws, devices[:100])) >= 2  # the release set really splits the devices


def test_events_reach_counts_each_fact_once(workspace):
    """Phones on the TypeScript SDK report what happened (``mds.events``: the products record their own
    outcomes once the device has a deviceId) to POST /client/v1/events; GET {ws}/reach/{release} shows exact
    device counts (sdk_harness.events_story)."""
    made: list[NodePhones] = []

    def start(**setup) -> NodePhones:
        made.append(NodePhones(workspace, **setup))
        return made[-1]

    events_story(workspace, start, report={}, h5_installed="installed")
    for phones in made:
        phones.close()
