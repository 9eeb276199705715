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
                ws.task(package, "--type", "gray", "--model", "timeWindow", "--end-time", end, "--users", "25",
                        *args, *extra)  # fmt: skip
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
            ours = phones.call("checks", product=product, devices=devices)
            for device, answer in zip(devices, ours, strict=True):
                python = reference.check(product, Device.from_context(device)).answer
                dynamic = ws.dynamic(product, device)
                if not answer == python == dynamic:
                    disagreements.append((product, device, answer, python, dynamic))
    return disagreements


def result_statuses(ws: Workspace, devices: list[dict]) -> set[int]:
    """The upgrade resultStatus values the reference client answers for `devices`."""
    reference = reference_client(ws)
    with no_proxy_env():
        return {reference.check("upgrade", Device.from_context(d)).answer["resultStatus"] for d in devices}
