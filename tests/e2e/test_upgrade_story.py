"""A release manager ships an APK from the command line against the running local stack: upload with
progress, inspection by the event worker, a verification-code download link, a release task."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import requests

from tests import app_files
from tests.e2e.cli import mds, mds_fail
from tests.sdk_capture import no_proxy_env

pytestmark = pytest.mark.e2e


def test_ship_an_apk(local_stack, tmp_path):
    session = tmp_path / "session.json"
    mds(local_stack, session, "login", "--bootstrap", str(local_stack.data_dir / "bootstrap.json"))
    apk = tmp_path / "app-release.apk"
    apk.write_bytes(app_files.apk("7.1.0"))
    added = mds(local_stack, session, "upgrade", "package", "add", "--platform", "android", "--version", "7.1",
                "--file", str(apk), "--code", "Q7X2", "--description", "e2e")  # fmt: skip
    package_id = re.search(r"Added package (\d+)", added).group(1)
    assert "file: ready" in added and hashlib.sha256(apk.read_bytes()).hexdigest() in added
    assert "the APK's versionName is 7.1.0, not 7.1 as entered" not in added  # 7.1 == 7.1.0
    link = re.search(r"download: (\S+) \(asks for the verification code\)", added).group(1)
    assert link.startswith(local_stack.api_url)

    with no_proxy_env():
        asked = requests.get(link, allow_redirects=False, timeout=10)
        assert asked.status_code == 401 and "<form" in asked.text
        granted = requests.get(link, params={"code": "Q7X2"}, allow_redirects=False, timeout=10)
        assert granted.status_code == 302
        assert requests.get(granted.headers["Location"], timeout=10).content == apk.read_bytes()

    created = mds(local_stack, session, "upgrade", "task", "create", package_id, "--type", "official",
                  "--mode", "multiple", "--memo", "Please update")  # fmt: skip
    assert "official, multiple (204), running" in created
    shown = json.loads(mds(local_stack, session, "upgrade", "package", "show", package_id, "--json"))
    assert shown["status"] == "officialRelease" and shown["file"]["size"] == apk.stat().st_size

    broken = tmp_path / "broken.apk"
    broken.write_bytes(b"not a zip at all")
    env_failure = mds_fail(local_stack, session, "upgrade", "package", "add", "--platform", "android",
                           "--version", "7.2", "--file", str(broken))  # fmt: skip
    assert "is not an APK: it is not a zip archive" in env_failure


