"""Browser tests of the web console: Playwright (PyPI) driving Debian's /usr/bin/chromium against the
running local stack (the session's ``local_stack`` from tests/e2e/conftest.py).

No skip: without chromium these tests fail and say how to install it (``make browser``)."""

from __future__ import annotations

import itertools
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import local_stack  # noqa: F401 - the one stack these tests share

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 800}
# One timeout for every page action and every `expect` assertion, suited to a loaded 2-core machine:
# a condition that holds is seen as soon as it holds; this is only how long a broken one takes to fail.
BROWSER_TIMEOUT_MS = 30_000
_versions = itertools.count(10)


def chromium_path() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not found:
        pytest.fail(
            "chromium is not installed: run `make browser` (apt-get install -y --no-install-recommends chromium)",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path(),
        "args": ["--no-sandbox", "--no-proxy-server"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(autouse=True)
def _default_timeouts(page):
    from playwright.sync_api import expect

    page.set_default_timeout(BROWSER_TIMEOUT_MS)
    page.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
    expect.set_options(timeout=BROWSER_TIMEOUT_MS)


def next_version() -> str:
    """A package version no other test of this session uses."""
    return f"{next(_versions)}.0"


@dataclass
class StackApi:
    """The console REST API over HTTP, to arrange what a browser test then looks at."""

    base: str
    app_id: str
    workspace_id: str
    token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def ws(self) -> str:
        return f"{self.base}/api/apps/{self.app_id}/workspaces/{self.workspace_id}"

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        url = path if path.startswith("http") else self.ws + path
        reply = self.session.request(
            method, url, json=body, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        if expect is not None:
            assert reply.status_code == expect, reply.text
        return reply.json() if reply.content else None

    def send_file(self, upload: dict[str, Any], content: bytes, filename: str) -> dict[str, Any]:
        post = upload["post"]
        sent = requests.post(
            post["url"], data=post["fields"], files={"file": (filename, content)}, timeout=30
        )
        assert sent.status_code in (200, 201, 204), sent.text
        deadline = time.monotonic() + 60
        while True:
            state = self.call("GET", f"/uploads/{upload['uploadId']}", expect=200)
            if state["status"] in ("processed", "failed") or time.monotonic() > deadline:
                return state
            time.sleep(0.2)

    def android_package(self, version: str) -> dict[str, Any]:
        from tests import app_files

        created = self.call(
            "POST",
            "/upgrade/packages",
            {"platform": "android", "version": version, "filename": "app.apk"},
            201,
        )
        done = self.send_file(created["upload"], app_files.apk(version), "app.apk")
        assert done["status"] == "processed", done
        return created


def login_token(base: str, username: str, password: str) -> str:
    reply = requests.post(
        f"{base}/api/auth/login", json={"username": username, "password": password}, timeout=30
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


@pytest.fixture(scope="session")
def admin_credentials(local_stack) -> dict[str, Any]:  # noqa: F811
    return json.loads((local_stack.data_dir / "bootstrap.json").read_text())


@pytest.fixture(scope="session")
def stack_api(local_stack, admin_credentials) -> StackApi:  # noqa: F811
    c = admin_credentials
    api = StackApi(local_stack.api_url, c["appId"], c["workspaceId"])
    api.token = login_token(local_stack.api_url, c["username"], c["password"])
    return api


@pytest.fixture(scope="session")
def viewer_credentials(stack_api) -> dict[str, str]:
    creds = {"username": "vera.viewer", "password": "viewer-password-1"}
    stack_api.call("POST", "/users", {**creds, "role": "viewer"}, 201)
    return creds


@pytest.fixture(scope="session")
def console_url(local_stack) -> str:  # noqa: F811
    return f"{local_stack.api_url}/console/"


def log_in(page, console_url: str, username: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(console_url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Console sections")).to_be_visible()


@pytest.fixture
def admin_page(page, console_url, admin_credentials):
    log_in(page, console_url, admin_credentials["username"], admin_credentials["password"])
    return page


@pytest.fixture
def viewer_page(page, console_url, viewer_credentials):
    log_in(page, console_url, viewer_credentials["username"], viewer_credentials["password"])
    return page
