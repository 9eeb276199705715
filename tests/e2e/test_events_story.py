"""Device events on the running local stack: simulated phones check an official upgrade through the
CDN, report what happened (the reference client's EventReporter), the stack's worker aggregates the
queue, and `mds stats` shows the funnel — exact although every phone sends its batch twice."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time

import pytest
import requests

from chalicelib.domain.targeting import Device
from mds.device.client import DeviceClient
from mds.device.events import EventReporter
from tests import app_files
from tests.e2e.cli import mds

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 60  # how long a broken pipeline takes to fail; a working one is seen as soon as it is done


def test_phones_report_and_the_funnel_adds_up(local_stack, tmp_path):
    session = tmp_path / "session.json"
    bootstrap = local_stack.data_dir / "bootstrap.json"
    creds = json.loads(bootstrap.read_text())
    mds(local_stack, session, "login", "--bootstrap", str(bootstrap))
    version = f"9.{secrets.randbelow(10_000)}"  # a version of its own in the shared local stack
    apk = tmp_path / "app.apk"
    apk.write_bytes(app_files.apk(version))
    added = mds(local_stack, session, "upgrade", "package", "add", "--platform", "android", "--version", version,
                "--file", str(apk))  # fmt: skip
    package = re.search(r"Added package (\d+)", added).group(1)
    created = mds(
        local_stack, session, "upgrade", "task", "create", package, "--type", "official", "--mode", "forced"
    )
    release = "upgrade-task-" + re.search(r"Created task (\d+)", created).group(1)
    try:
        token = json.loads(session.read_text())["token"]
        ws = f"{local_stack.api_url}/api/apps/{creds['appId']}/workspaces/{creds['workspaceId']}"
        keys = requests.get(
            f"{ws}/signing-keys", headers={"authorization": f"Bearer {token}"}, timeout=10
        ).json()
        pinned = {k["keyId"]: base64.b64decode(k["publicKey"]) for k in keys["keys"]}
        for n in range(5):
            phone = DeviceClient(local_stack.cdn_url, local_stack.api_url, app_id=creds["appId"],
                                 workspace_id=creds["workspaceId"], public_keys=pinned,
                                 state_dir=tmp_path / "phones" / str(n))  # fmt: skip
            device = Device.from_context(
                {"platform": "android", "clientVersion": "1.0", "deviceId": f"ev-{n}"}
            )
            reporter = EventReporter(phone, device)
            for _ in range(3):  # checking again and again reports "offered" once
                decision = phone.check("upgrade", device)
                assert decision.answer["resultStatus"] == 206 and decision.static
                reporter.checked(decision)
            if n < 3:
                reporter.record("download.finished", release)
            if n < 2:
                reporter.record("install.finished", release)
            if n == 2:
                reporter.record("install.failed", release, reason="INSTALL_FAILED_INSUFFICIENT_STORAGE")
            queued = json.loads((phone.state_dir / "events.json").read_text())["queue"]
            assert reporter.flush() == reporter_events(n) == len(queued) and reporter.pending() == 0
            # the answer to that flush was "lost": the phone sends the very same batch again
            again = phone.post("/client/v1/events", reporter._batch(queued))
            assert again.status_code == 202

        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            funnel = json.loads(mds(local_stack, session, "stats", release, "--json"))["funnel"]
            if funnel["installed"] + funnel["installFailed"] == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert funnel == {"offered": 5, "prompted": 5, "downloadStarted": 0, "downloaded": 3, "downloadFailed": 0,
                          "installed": 2, "installFailed": 1}  # fmt: skip
        printed = mds(local_stack, session, "stats", release)
        assert "5 offered → 5 prompted → 0 downloadStarted → 3 downloaded → 2 installed" in printed
        assert "install failed on 1: INSTALL_FAILED_INSUFFICIENT_STORAGE" in printed

    finally:  # the stack is shared by the e2e files: leave no running task for the stories after this one
        mds(local_stack, session, "upgrade", "task", "end", release.removeprefix("upgrade-task-"))


def reporter_events(n: int) -> int:
    """What phone ``n`` sent: offered + prompted, then its download/install events."""
    return 2 + (n < 3) + (n < 2) + (n == 2)
