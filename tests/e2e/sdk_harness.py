"""What the SDK end-to-end tests share (tests/e2e/test_js_sdk.py, tests/e2e/test_android_sdk.py): a
workspace of its own seeded through the `mds` CLI, phones on an SDK driven over JSON lines by a small
driver program (one request line in, one reply line out), and the agreement run's random release set,
random devices and the three-way comparison (SDK, Python reference client, dynamic API)."""

from __future__ import annotations

import base64
import json
import random
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from chalicelib.domain.targeting import Device
from mds.device.client import DeviceClient
from tests import app_files
from tests.builders import wait_for
from tests.e2e.conftest import PROJECT_DIR, child_environment
from tests.sdk_capture import no_proxy_env


class Workspace:
    """A workspace of its own, seeded through the `mds` CLI (logged in as the bootstrap admin)."""

    def __init__(self, stack, tmp_path: Path, *, prefix: str) -> None:
        self.stack, self.tmp = stack, tmp_path
        self.app_id, self.workspace_id = f"{prefix}{uuid.uuid4().hex[:8].upper()}", "default"
        self.session = tmp_path / "session.json"
        bootstrap = stack.data_dir / "bootstrap.json"
        self.creds = json.loads(bootstrap.read_text())
        self.cli("login", "--bootstrap", str(bootstrap))
        self.cli("workspaces", "create", self.app_id, self.workspace_id, "--name", f"{prefix} SDK e2e")

    def cli(self, *args: str) -> str:
        env = {
            **child_environment(),
            "MDS_ENDPOINT": self.stack.api_url,
            "MDS_SESSION_FILE": str(self.session),
            "MDS_DEVICE_DIR": str(self.tmp / "phones"),
            "COLUMNS": "200",
        }
        if args[0] not in ("login", "workspaces"):
            env |= {"MDS_APP_ID": self.app_id, "MDS_WORKSPACE_ID": self.workspace_id}
        done = subprocess.run(
            [sys.executable, "-m", "mds.cli", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def api(self, method: str, path: str) -> dict:
        with no_proxy_env():
            token = requests.post(f"{self.stack.api_url}/api/auth/login", timeout=10, json={
                "username": self.creds["username"], "password": self.creds["password"]}).json()["token"]  # fmt: skip
            reply = requests.request(
                method, f"{self.stack.api_url}/api/apps/{self.app_id}/workspaces/{self.workspace_id}{path}",
                headers={"Authorization": f"Bearer {token}"}, timeout=10,
            )  # fmt: skip
        reply.raise_for_status()
        return reply.json()

    def manifest_keys(self) -> dict[str, str]:
        return {k["keyId"]: k["publicKey"] for k in self.api("GET", "/signing-keys")["keys"]}

    def dynamic(self, product: str, context: dict) -> dict:
        body = {"appId": self.app_id, "workspaceId": self.workspace_id, **context}
        with no_proxy_env():
            reply = requests.post(f"{self.stack.api_url}/client/v1/{product}/check", json=body, timeout=10)
        reply.raise_for_status()
        return reply.json()

    def package(self, version: str) -> str:
        apk = self.tmp / f"app-{version}.apk"
        apk.write_bytes(app_files.apk(version))
        added = self.cli(
            "upgrade", "package", "add", "--platform", "android", "--version", version, "--file", str(apk)
        )
        return re.search(r"Added package (\d+)", added).group(1)

    def whitelist(self, ids: list[str]) -> str:
        created = self.cli("whitelist", "create", f"sdk-{uuid.uuid4().hex[:6]}", "--ids", ",".join(ids))
        return re.search(r"Created whitelist (\d+)", created).group(1)

    def task(self, package: str, *args: str) -> str:
        return re.search(r"Created task (\d+)", self.cli("upgrade", "task", "create", package, *args)).group(
            1
        )


class DriverPhones:
    """Phones on an SDK: one driver process (`command`), JSON lines; `init` hands it the workspace."""

    def __init__(self, command: list[str], ws: Workspace, *, env: dict[str, str], **setup) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        self.call("init", setup={
            "cdnUrl": ws.stack.cdn_url, "apiUrl": ws.stack.api_url, "appId": ws.app_id,
            "workspaceId": ws.workspace_id, "publicKeys": ws.manifest_keys(), **setup,
        })  # fmt: skip

    def request(self, op: str, **request) -> dict:
        """The driver's whole reply: {"ok": value} or {"error": text, "kind": typed kind}."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, **request}) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def call(self, op: str, **request):
        reply = self.request(op, **request)
        assert "error" not in reply, reply
        return reply["ok"]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait(30) == 0


def android(user: str, version: str, **extra) -> dict:
    return {
        "platform": "android",
        "userId": user,
        "deviceId": f"sdk-{user}",
        "clientVersion": version,
        **extra,
    }


# --- agreement -------------------------------------------------------------------------------------

CITIES = ["Shanghai", "Beijing", "Hangzhou", "shanghai ", None]
MODELS = ["VIVO X5M", "Pixel 8", "MI 9", None]
NETS = ["WIFI", "4G", "5G", "WLAN", "WWAN", None]
VERSIONS = ["3.9", "4.0", "4.0.0", "v4.1", "4.2.0-beta", "4.5", "4.10", "5.0", "5.0.1", None]
OS = ["7.1", "8.0", "10", "12.0 beta", "13", "R", None]
USERS = [f"u{n:03d}" for n in range(400)]


def random_rules(rng: random.Random) -> list[str]:
    rules = []
    if rng.random() < 0.4:
        rules.append(
            {
                "type": "city",
                "operation": rng.choice([1, 2]),
                "values": rng.sample(["Shanghai", "Beijing", "Hangzhou"], 2),
            }
        )
    if rng.random() < 0.3:
        rules.append(
            {
                "type": "network",
                "operation": rng.choice([1, 2]),
                "values": [rng.choice(["Wi-Fi", "4G", "5G"])],
            }
        )
    if rng.random() < 0.3:
        rules.append({"type": "osVersion", "operation": rng.choice([3, 4]), "values": ["8.0-12.0"]})
    if rng.random() < 0.2:
        rules.append({"type": "model", "operation": 2, "values": ["VIVO X5M"]})
    return [json.dumps(r) for r in rules]


def seed_random_releases(ws: Workspace, rng: random.Random) -> None:
    listed = ws.whitelist(rng.sample(USERS, 80))
    for version in ("5.0", "5.1", "5.2"):
        package = ws.package(version)
        for _ in range(rng.randint(1, 3)):
            low = rng.choice(["3.0", "4.0", "4.1", "4.5"])
            args = ["--mode", rng.choice(["single", "multiple", "forced"]), "--client-versions",
                    f"{low}-{rng.choice(['4.5', '4.9'])}", "--memo", f"{version}-{rng.random():.3f}"]  # fmt: skip
            kind = rng.choice(["official", "whitelist", "whitelist", "timeWindow"])
            if kind == "official":
                ws.task(package, "--type", "official", *args)
                continue
            extra = [a for r in random_rules(rng) for a in ("--rule", r)]
            if kind == "whitelist":
                ws.task(
                    package, "--type", "gray", "--model", "whitelist", "--whitelist", listed, *args, *extra
                )
            else:
                end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
                ws.task(package, "--type", "gray", "--model", "timeWindow", "--end-time", end, "--users", "3",
                        *args, *extra)  # fmt: skip
    # a time window that fills up during the run: its 3 places go to the first 4.x devices that ask, then
    # it is published closed and the other devices fall through to the releases below it
    end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    ws.task(ws.package("5.3"), "--type", "gray", "--model", "timeWindow", "--end-time", end, "--users", "3",
            "--mode", "forced", "--client-versions", "4.0-4.9", "--memo", "window")  # fmt: skip
    for n in range(3):
        percent = rng.choice([10, 50, 100])
        targeted = {"value": f"on-{n}", "platform": "android", "rollout": {"percent": percent},
                    "rules": [json.loads(r) for r in random_rules(rng)]}  # fmt: skip
        ws.cli(
            "config",
            "add",
            f"flag_{n}",
            "--type",
            "string",
            "--value",
            "off",
            "--targeted",
            json.dumps(targeted),
        )


def random_device(rng: random.Random, n: int) -> dict:
    values = {"platform": "android", "userId": rng.choice([*USERS, None]), "deviceId": f"agree-{n}",
              "clientVersion": rng.choice(VERSIONS), "city": rng.choice(CITIES), "model": rng.choice(MODELS),
              "netType": rng.choice(NETS), "osVersion": rng.choice(OS)}  # fmt: skip
    return {k: v for k, v in values.items() if v is not None}


def reference_client(ws: Workspace) -> DeviceClient:
    """The Python reference client (mds/device) on the workspace, with its own state."""
    return DeviceClient(
        ws.stack.cdn_url, ws.stack.api_url, app_id=ws.app_id, workspace_id=ws.workspace_id,
        public_keys={k: base64.b64decode(v) for k, v in ws.manifest_keys().items()}, state_dir=ws.tmp / "python",
    )  # fmt: skip


def agreement(ws: Workspace, phones: DriverPhones, devices: list[dict]) -> list[tuple]:
    """Each (product, device) where the SDK's answer (driver op `checks`), the reference client's and
    the dynamic API's are not all equal, with the three answers."""
    reference = reference_client(ws)
    disagreements = []
    with no_proxy_env():
        for product in ("upgrade", "config"):
            # the reference client first: it claims the time-window places and keeps their grants; the SDK
            # is handed them (the same devices), so a window that fills up is closed for the others alone
            pythons = [reference.check(product, Device.from_context(d)).answer for d in devices]
            ours = phones.call("checks", product=product, devices=devices, grants=reference.grants())
            if product == "upgrade":
                assert len(reference.grants()) == 3, "the time window of seed_random_releases did not fill"
            for device, answer, python in zip(devices, ours, pythons, strict=True):
                dynamic = ws.dynamic(product, device)
                if not answer == python == dynamic:
                    disagreements.append((product, device, answer, python, dynamic))
    return disagreements


def result_statuses(ws: Workspace, devices: list[dict]) -> set[int]:
    """The upgrade resultStatus values the reference client answers for `devices`."""
    reference = reference_client(ws)
    with no_proxy_env():
        return {reference.check("upgrade", Device.from_context(d)).answer["resultStatus"] for d in devices}


# --- events ----------------------------------------------------------------------------------------

H5_ID = "12345678"


def events_story(ws: Workspace, make_phones, *, report: dict, h5_installed: str) -> None:
    """Phones on an SDK report what happened (an upgrade offered and prompted, downloads and installs, an H5_ID
    install, a hotpatch apply, the config value in force) to POST /client/v1/events; the stack's worker
    counts them and GET {ws}/reach/{release} shows exact device counts — unchanged by the same batches sent
    again, by the same facts recorded again, and by a restarted app on the same storage. ``report``: what
    a check or sync request needs for the driver to hand its outcome to the reporter."""
    from chalicelib.security import rsa_keys
    from tests import h5_zips

    ws.package("5.0")
    upgrade = "upgrade-task-" + ws.task(ws.package("5.1"), "--type", "official", "--mode", "forced",
                                        "--client-versions", "5.0-5.0")  # fmt: skip
    key = ws.tmp / "h5.pem"
    key.write_bytes(rsa_keys.private_key_pem(rsa_keys.generate_private_key()))
    public_pem = ws.tmp / "h5.pub.pem"
    ws.cli("h5", "key", "--file", str(key), "--public-out", str(public_pem))
    ws.cli("h5", "vhost", "h5app.com")
    ws.cli("h5", "add-app", H5_ID, "--name", "Home", "--type", "normal")
    zipped = h5_zips.normal(ws.tmp / "h5.zip", version="1")
    printed = ws.cli("h5", "upload", H5_ID, "--file", str(zipped), "--version", "1.0.0.1", "--min", "5.0;5.0",
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
    sdk = make_phones(**setup)

    sent: list[dict] = []  # each phone's batch, to send again
    hotpatch = None
    for n in range(4):
        phone, device = f"ev{n}", android(f"ev{n}", "5.0")
        for _ in range(3):  # checking again and again: "offered" and "prompted" once
            checked = sdk.call("upgrade.check", phone=phone, device=device, **report)
            assert (checked["resultStatus"], checked["prompt"]) == (206, True)
        assert sdk.call("h5.sync", phone=phone, device=device, **report)[H5_ID]["status"] == h5_installed
        synced = sdk.call("hotpatch.sync", phone=phone, device=device, **report)
        assert synced["applied"] == patch_id
        hotpatch = f"hotpatch-release-{synced['answer']['releaseId']}"
        sdk.call("config.load", phone=phone, device=device, **report)
        if n < 3:  # what the app itself saw: the APK download and the system installer's answer
            record(sdk, phone, "download.finished", upgrade)
        if n < 2:
            record(sdk, phone, "install.finished", upgrade)
        if n == 2:
            record(
                sdk,
                phone,
                "install.failed",
                upgrade,
                "INSTALL_FAILED_INSUFFICIENT_STORAGE\n\tat PackageManager",
            )
        queued = sdk.call("events.queued", phone=phone)
        assert (
            sdk.call("events.flush", phone=phone) == len(queued)
            and sdk.call("events.pending", phone=phone) == 0
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
    restarted = make_phones(**setup)  # a new process on the same storage: the facts are known, nothing is queued
    restarted.call("upgrade.check", phone="ev0", device=android("ev0", "5.0"), **report)
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

    wait_for(counted, what="counting the events")
    assert reach(upgrade)["failures"] == {
        "download": {},
        "install": {"INSTALL_FAILED_INSUFFICIENT_STORAGE": 1},
    }

    # sending again changes no count: once a later fact is counted, the repeats were read too
    for batch in sent:
        post(batch)
    late = sdk.call("upgrade.check", phone="ev4", device=android("ev4", "5.0"), **report)
    assert late["prompt"] and sdk.call("events.flush", phone="ev4") == 2
    funnel |= {"offered": 5, "prompted": 5}
    wait_for(counted, what="counting the events")


def record(phones: DriverPhones, phone: str, kind: str, release: str, reason: str | None = None) -> bool:
    """A fact the app itself reports (EventReporter.record); False when it was recorded before."""
    return phones.call("events.record", phone=phone, type=kind, release=release, reason=reason, value=None)
