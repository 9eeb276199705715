"""The Android SDK (clients/android, Java) on the JVM against the running local stack: PRODUCT.md stories 1
(upgrade priority), 4 (H5 release), 7 (config) and 8 (hotpatch rollback) through the Java SDK, and the
agreement run — 250 random devices against a random release set, where the Java SDK's answers must equal
the Python reference client's and the dynamic check API's — and device events (EventReporter, then reach).
Client protocol 2: a round of all four products costs one conditional request, and a time-window place is
kept on the phone as a signed grant (no API call for it again, across a closed window and a restart).
The SDK is driven by its test driver (io.mds.client.DeviceServer, JSON lines); each story seeds its own
workspace through the CLI."""

from __future__ import annotations

import base64
import json
import os
import random
import re
import subprocess
import time
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

ANDROID = PROJECT_DIR / "clients" / "android"
H5 = "12345678"


@pytest.fixture(scope="module")
def classpath() -> str:
    """The jar and the test classes as `make -C clients/android test-classes` builds them."""
    subprocess.run(["make", "-s", "-C", str(ANDROID), "test-classes"], check=True, capture_output=True)
    made = subprocess.run(
        ["make", "-s", "-C", str(ANDROID), "classpath"], check=True, capture_output=True, text=True
    )
    return made.stdout.strip()


class JavaPhones(DriverPhones):
    """Phones on the Java SDK: one JVM running io.mds.client.DeviceServer."""

    def __init__(self, classpath: str, ws: Workspace, **setup) -> None:
        super().__init__(
            ["java", "-cp", classpath, "io.mds.client.DeviceServer"], ws,
            env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"}, stateDir=str(ws.tmp / "java"), **setup,
        )  # fmt: skip


@pytest.fixture
def workspace(local_stack, tmp_path, classpath):
    return Workspace(local_stack, tmp_path, prefix="JV")


@pytest.fixture
def phones(workspace, classpath):
    made: list[JavaPhones] = []

    def start(**setup) -> JavaPhones:
        made.append(JavaPhones(classpath, workspace, **setup))
        return made[-1]

    yield start
    for phone in made:
        phone.close()


def test_story_1_upgrade_priority(workspace, phones):
    ws = workspace
    p50 = ws.package("5.0")
    wid = ws.whitelist(["alice"])
    gray = ("--type", "gray", "--model", "whitelist", "--whitelist", wid, "--client-versions", "4.0-4.0")
    ws.task(p50, *gray, "--mode", "single", "--memo", "A")
    task_b = ws.task(p50, *gray, "--mode", "forced", "--memo", "B")
    java = phones()
    alice, bob = android("alice", "4.0"), android("bob", "4.0")

    def status(device: dict) -> tuple[str, str | None, int, str]:
        got = java.call("upgrade.check", phone=device["userId"], device=device)
        assert got["answer"] == ws.dynamic("upgrade", device)  # the SDK and the API agree
        return got["result"], got["mode"], got["resultStatus"], got["guideMemo"]

    assert status(alice) == ("HAS_NEW_VERSION", "FORCED", 206, "B")
    assert status(bob) == ("HAS_NO_NEW_VERSION", None, 201, "")
    ws.cli("upgrade", "task", "pause", task_b)
    single = java.call("upgrade.check", phone="alice", device=alice)
    assert (single["mode"], single["guideMemo"], single["prompt"]) == ("SINGLE", "A", True)
    again = java.call("upgrade.check", phone="alice", device=alice)
    assert (again["mode"], again["prompt"]) == ("SINGLE", False)  # a single reminder: once per silent period
    ws.task(
        p50, "--type", "official", "--mode", "multiple", "--client-versions", "4.0-4.0", "--memo", "official"
    )
    assert status(alice) == status(bob) == ("HAS_NEW_VERSION", "MULTIPLE", 204, "official")
    p51 = ws.package("5.1")
    ws.task(p51, "--type", "official", "--mode", "forced", "--client-versions", "4.0-4.0", "--memo", "5.1")
    assert status(alice) == status(bob) == ("HAS_NEW_VERSION", "FORCED", 206, "5.1")
    checked = java.call("upgrade.check", phone="alice", device=alice)
    assert checked["newestVersion"] == "5.1" and checked["static"] and checked["prompt"]


def test_story_4_h5_release(workspace, phones):
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
    java = phones(h5PublicKey=public_pem.read_text())
    alice, bob = android("alice", "10.2.0"), android("bob", "10.2.0")
    page = f"https://{H5}.h5app.com/www/index.html"

    # each phone verifies the .amr with the app's public key while it streams
    assert java.call("h5.sync", phone="alice", device=alice) == {
        H5: {"version": "1.0.0.2", "status": "INSTALLED", "error": None}
    }
    assert base64.b64decode(java.call("h5.read", phone="alice", url=page)) == h5_zips.INDEX_HTML + b"2"
    assert java.call("h5.sync", phone="bob", device=bob)[H5]["version"] == "1.0.0.1"
    assert base64.b64decode(java.call("h5.read", phone="bob", url=page)) == h5_zips.INDEX_HTML + b"1"
    old = {"platform": "android", "userId": "dave", "clientVersion": "10.1.99"}
    assert java.call("h5.sync", phone="dave", device=old) == {}  # below the package's 10.2.0 for Android

    ws.cli("h5", "end", gray_id)
    back = java.call("h5.sync", phone="alice", device=alice)
    # installType 0 (install on open, the upload's default): staged now, in use once the page opens
    assert back == {H5: {"version": "1.0.0.1", "status": "STAGED", "error": None}}
    assert java.call("h5.installed", phone="alice") == {H5: "1.0.0.2"}
    assert base64.b64decode(java.call("h5.read", phone="alice", url=page)) == h5_zips.INDEX_HTML + b"1"
    assert java.call("h5.installed", phone="alice") == {H5: "1.0.0.1"}
    with no_proxy_env():
        assert requests.get(made["1.0.0.2"]["amrUrl"], timeout=10).status_code == 404
    assert java.call("h5.read", phone="alice", url=f"https://{H5}.h5app.com/www/none.js") is None  # online


def test_story_7_config(workspace, phones):
    ws = workspace
    ws.cli("config", "add", "max_items", "--type", "number", "--value", "20")
    source = ws.tmp / "config.json"
    source.write_text(json.dumps({"schema": 1, "items": ITEMS}))
    assert "Imported 2 keys, skipped 1 that exist: max_items." in ws.cli("config", "import", str(source))
    java = phones()
    alice = android("alice", "5.0", city="Shanghai", osVersion="11")
    java.call("config.listen", phone="alice", key="feed_v2")
    assert java.call("config.load", phone="alice", device=alice) == ["banner.text", "feed_v2", "max_items"]
    assert java.call("config.get", phone="alice", key="max_items") == 20

    rule = {"value": True, **SHANGHAI_ANDROID_10, "rollout": {"percent": 20}}
    ws.cli("config", "set", "feed_v2", "--targeted", json.dumps(rule))
    crowd = [android(f"user{n}", "5.0", city="Shanghai", osVersion="11") for n in range(60)]

    def who_is_in() -> set[int]:
        inside = set()
        for n, device in enumerate(crowd):
            java.call("config.load", phone=device["userId"], device=device)
            if java.call("config.get", phone=device["userId"], key="feed_v2") is True:
                inside.add(n)
        return inside

    at_20 = who_is_in()
    assert 2 <= len(at_20) <= 25 and who_is_in() == at_20  # stable across reloads
    ws.cli("config", "set", "feed_v2", "--targeted", json.dumps({**rule, "rollout": {"percent": 40}}))
    at_40 = who_is_in()
    assert at_20 < at_40  # raising the percentage keeps everyone who was in

    ws.cli("config", "set", "feed_v2", "--targeted", json.dumps({**rule, "rollout": {"percent": 100}}))
    assert java.call("config.load", phone="alice", device=alice) == ["feed_v2"]
    assert java.call("config.load", phone="alice", device=alice) == []  # unchanged: no listener call
    assert java.call("config.events", phone="alice") == [["feed_v2", False], ["feed_v2", True]]
    restarted = phones()  # a new process on the same files: the values survive it
    assert restarted.call("config.get", phone="alice", key="feed_v2") is True


def test_story_8_hotpatch_rollback(workspace, phones):
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
    java = phones(patchKeys={keys["mds"]["keyId"]: keys["mds"]["publicKey"]})
    devices = [android(user, "5.0") for user in ("alice", "bob")]
    for device in devices:
        assert java.call("hotpatch.sync", phone=device["userId"], device=device)["applied"] == p1

    p2 = add("fix2.js", b"patch('feed', 'faster');")
    ws.cli("hotpatch", "release", p2, "--type", "official")
    cached = {}
    for device in devices:
        synced = java.call("hotpatch.sync", phone=device["userId"], device=device)
        assert synced["applied"] == p2 and synced["actions"] == [f"applied {p2}"]
        cached[device["userId"]] = synced["answer"]
    ws.cli("hotpatch", "rollback", p2)
    for device in devices:
        back = java.call("hotpatch.sync", phone=device["userId"], device=device)
        assert back["static"] and back["applied"] == p1
        assert back["actions"] == [f"removed {p2}", f"applied {p1}"]
        # the manifest cached before the rollback cannot bring P2 back
        replayed = java.call(
            "hotpatch.replay", phone=device["userId"], device=device, answer=cached[device["userId"]]
        )
        assert replayed == p1


def test_agreement_of_250_random_devices(workspace, phones):
    rng = random.Random(20261204)
    ws = workspace
    seed_random_releases(ws, rng)
    devices = [random_device(rng, n) for n in range(250)]
    disagreements = agreement(ws, phones(), devices)
    assert disagreements == [], f"{len(disagreements)} disagreements, first: {disagreements[:1]}"
    assert len(result_statuses(ws, devices[:100])) >= 2  # the release set really splits the devices


def test_events_reach_counts_each_fact_once(workspace, phones):
    """Phones on the Java SDK report what happened (EventReporter, handed each check's and sync's outcome) to
    POST /client/v1/events; GET {ws}/reach/{release} shows exact device counts (sdk_harness.events_story)."""
    events_story(workspace, phones, report={"report": True}, h5_installed="INSTALLED")


def test_a_round_of_four_products_is_one_conditional_request(workspace, phones):
    ws = workspace
    ws.task(ws.package("5.0"), "--type", "official", "--mode", "multiple", "--client-versions", "4.0-4.0")
    ws.cli("config", "add", "feed_v2", "--type", "boolean", "--value", "true")
    java = phones()
    alice = android("alice", "4.0")
    index = f"GET /m/{ws.app_id}/{ws.workspace_id}/android/index.json"
    first = java.call("round", phone="alice", device=alice)
    assert list(first["decisions"]) == ["upgrade", "h5", "config", "hotpatch"] and first["errors"] == {}
    assert first["requests"][0] == f"{index} 200"

    second = java.call("round", phone="alice", device=alice)
    assert second["requests"] == [f"{index} 304"]  # nothing changed: no other request, for four answers
    for product, decision in second["decisions"].items():
        answer = decision["answer"]
        assert decision["static"] and answer == first["decisions"][product]["answer"], product
        assert answer == ws.dynamic(product, alice), product
    assert second["decisions"]["upgrade"]["answer"]["resultStatus"] == 204
    assert abs(second["nextCheckAt"] - (time.time() + 600)) < 120  # the workspace's poll interval (default)

    ws.cli("config", "add", "max_items", "--type", "number", "--value", "20")
    third = wait_for(
        lambda: (r := java.call("round", phone="alice", device=alice))["requests"][0] == f"{index} 200" and r,
        what="the config change published",
    )
    config = f"GET /m/{ws.app_id}/{ws.workspace_id}/config/android/seg/"
    # only config's new segment
    assert len(third["requests"]) == 2 and third["requests"][1].startswith(config)
    assert third["decisions"]["config"]["answer"] == ws.dynamic("config", alice)
    assert third["decisions"]["upgrade"] == second["decisions"]["upgrade"]


def test_a_time_window_place_stays_on_the_phone(workspace, phones):
    ws = workspace
    ws.package("4.0")
    end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    task = ws.task(ws.package("5.0"), "--type", "gray", "--model", "timeWindow", "--end-time", end, "--users", "1",
                   "--mode", "forced", "--client-versions", "4.0-4.0", "--memo", "one place")  # fmt: skip
    release = f"upgrade-task-{task}"
    java = phones()
    alice, bob = android("alice", "4.0"), android("bob", "4.0")
    claimed = java.call("upgrade.check", phone="alice", device=alice)
    assert (claimed["resultStatus"], claimed["static"]) == (206, False)
    assert claimed["requests"][-1] == "POST /client/v1/upgrade/check 200"
    assert "grants" not in claimed["answer"]  # the SDK keeps them; the app gets the product's answer
    assert java.call("grant", phone="alice", product="upgrade", candidate=release, device=alice) is None
    assert java.call("grant", phone="bob", product="upgrade", candidate=release, device=bob) == "none"

    def bob_skips_without_asking() -> bool:  # the last place is taken: the window is published closed
        got = java.call("upgrade.check", phone="bob", device=bob)
        return got["resultStatus"] == 201 and got["static"]

    wait_for(bob_skips_without_asking, what="the full window published closed")
    assert ws.dynamic("upgrade", bob)["resultStatus"] == 201
    held = java.call("upgrade.check", phone="alice", device=alice)
    assert (held["resultStatus"], held["static"], held["guideMemo"]) == (206, True, "one place")
    assert not [r for r in held["requests"] if r.startswith("POST")]

    restarted = phones()  # a new process on the same files: the grant survives it
    again = restarted.call("upgrade.check", phone="alice", device=alice)
    index = f"GET /m/{ws.app_id}/{ws.workspace_id}/android/index.json"
    assert (again["resultStatus"], again["static"], again["requests"]) == (206, True, [f"{index} 304"])
    assert again["answer"] == ws.dynamic("upgrade", alice)  # the API agrees: the place is alice's
