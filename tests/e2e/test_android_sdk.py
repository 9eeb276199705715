"""The Android SDK (clients/android, Java) on the JVM against the running local stack: PRODUCT.md stories 1
(upgrade priority), 4 (H5 release), 7 (config) and 8 (hotpatch rollback) through the Java SDK, and the
agreement run — 250 random devices against a random release set, where the Java SDK's answers must equal
the Python reference client's and the dynamic check API's — and device events (EventReporter, then reach).
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

import pytest
import requests

from chalicelib.security import rsa_keys
from tests import h5_zips
from tests.e2e.conftest import PROJECT_DIR
from tests.e2e.sdk_harness import (
    DriverPhones,
    Workspace,
    agreement,
    android,
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
    """Phones on the Java SDK report what happened (EventReporter: upgrade offered and prompted, downloads and
    installs, an H5 install, a hotpatch apply, the config value in force) to POST /client/v1/events; the stack's
    worker counts them and GET {ws}/reach/{release} shows exact device counts — unchanged by the same batches
    sent again, by the same facts recorded again, and by a restarted app on the same storage."""
    ws = workspace
    ws.package("5.0")
    upgrade = "upgrade-task-" + ws.task(ws.package("5.1"), "--type", "official", "--mode", "forced",
                                        "--client-versions", "5.0-5.0")  # fmt: skip
    key = ws.tmp / "h5.pem"
    key.write_bytes(rsa_keys.private_key_pem(rsa_keys.generate_private_key()))
    public_pem = ws.tmp / "h5.pub.pem"
    ws.cli("h5", "key", "--file", str(key), "--public-out", str(public_pem))
    ws.cli("h5", "vhost", "h5app.com")
    ws.cli("h5", "add-app", H5, "--name", "Home", "--type", "normal")
    zipped = h5_zips.normal(ws.tmp / "h5.zip", version="1")
    printed = ws.cli("h5", "upload", H5, "--file", str(zipped), "--version", "1.0.0.1", "--min", "5.0;5.0",
                     "--main-url", "/www/index.html", "--json")  # fmt: skip
    version_id = json.loads(printed[printed.index("{") :])["id"]
    h5 = "h5-task-" + re.search(
        r"Task (\d+)", ws.cli("h5", "release", version_id, "--type", "official")
    ).group(1)
    patch = ws.tmp / "fix.js"
    patch.write_bytes(b"patch('feed', 'null check');")
    added = ws.cli("hotpatch", "add", "--file", str(patch), "--platform", "android", "--app-version", "5.0")
    patch_id = re.search(r"Added patch (\d+)", added).group(1)
    ws.cli("hotpatch", "release", patch_id, "--type", "official")
    ws.cli("config", "add", "feed_v2", "--type", "boolean", "--value", "true")
    keys = ws.api("GET", "/hotpatch/keys")
    setup = {
        "h5PublicKey": public_pem.read_text(),
        "patchKeys": {keys["mds"]["keyId"]: keys["mds"]["publicKey"]},
    }
    java = phones(**setup)

    sent: list[dict] = []  # each phone's batch, to send again
    hotpatch = None
    for n in range(4):
        phone, device = f"ev{n}", android(f"ev{n}", "5.0")
        for _ in range(3):  # checking again and again: "offered" and "prompted" once
            checked = java.call("upgrade.check", phone=phone, device=device, report=True)
            assert (checked["resultStatus"], checked["prompt"]) == (206, True)
        assert java.call("h5.sync", phone=phone, device=device, report=True)[H5]["status"] == "INSTALLED"
        synced = java.call("hotpatch.sync", phone=phone, device=device, report=True)
        assert synced["applied"] == patch_id
        hotpatch = f"hotpatch-release-{synced['answer']['releaseId']}"
        java.call("config.load", phone=phone, device=device, report=True)
        if n < 3:  # what the app itself saw: the APK download and the system installer's answer
            record(java, phone, "download.finished", upgrade)
        if n < 2:
            record(java, phone, "install.finished", upgrade)
        if n == 2:
            record(
                java,
                phone,
                "install.failed",
                upgrade,
                "INSTALL_FAILED_INSUFFICIENT_STORAGE\n\tat PackageManager",
            )
        queued = java.call("events.queued", phone=phone)
        assert (
            java.call("events.flush", phone=phone) == len(queued)
            and java.call("events.pending", phone=phone) == 0
        )
        sent.append({"schema": 1, "appId": ws.app_id, "workspaceId": ws.workspace_id, "platform": "android",
                     "deviceId": device["deviceId"], "clientVersion": "5.0", "events": queued})  # fmt: skip

    def post(batch: dict) -> None:  # the answer to a flush was "lost": the very same batch again
        with no_proxy_env():
            assert (
                requests.post(f"{ws.stack.api_url}/client/v1/events", json=batch, timeout=10).status_code
                == 202
            )

    for batch in sent:
        post(batch)
    restarted = phones(**setup)  # a new process on the same storage: the facts are known, nothing is queued
    restarted.call("upgrade.check", phone="ev0", device=android("ev0", "5.0"), report=True)
    assert record(restarted, "ev0", "install.finished", upgrade) is False
    assert (
        restarted.call("events.pending", phone="ev0") == 0
        and restarted.call("events.flush", phone="ev0") == 0
    )

    funnel = {"offered": 4, "prompted": 4, "downloadStarted": 0, "downloaded": 3, "downloadFailed": 0,
              "installed": 2, "installFailed": 1}  # fmt: skip
    delivered = {"offered": 4, "prompted": 0, "downloadStarted": 0, "downloaded": 4, "downloadFailed": 0,
                 "installed": 4, "installFailed": 0}  # fmt: skip
    patched = {**delivered, "downloaded": 0}

    def reach(release: str) -> dict:
        return ws.api("GET", f"/reach/{release}")

    def counted() -> bool:
        got = [reach(r)["funnel"] for r in (upgrade, h5, hotpatch)] + [reach("config:feed_v2")["values"]]
        return got == [funnel, delivered, patched, [{"value": "true", "devices": 4}]]

    wait_for(counted)
    assert reach(upgrade)["failures"] == {
        "download": {},
        "install": {"INSTALL_FAILED_INSUFFICIENT_STORAGE": 1},
    }

    # sending again changes no count: once a later fact is counted, the repeats were read too
    for batch in sent:
        post(batch)
    late = java.call("upgrade.check", phone="ev4", device=android("ev4", "5.0"), report=True)
    assert late["prompt"] and java.call("events.flush", phone="ev4") == 2
    funnel |= {"offered": 5, "prompted": 5}
    wait_for(counted)


def record(phones: JavaPhones, phone: str, kind: str, release: str, reason: str | None = None) -> bool:
    """A fact the app itself reports (EventReporter.record); False when it was recorded before."""
    return phones.call("events.record", phone=phone, type=kind, release=release, reason=reason, value=None)


def wait_for(done, seconds: float = 60) -> None:
    """Until `done()` (the stack's worker aggregates the events queue a moment after the POST)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the events were not counted in time"
        time.sleep(0.2)
