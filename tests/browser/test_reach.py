"""The console's reach page in a real headless Chromium: the funnel of a release as an SVG chart from
the events devices sent, a rollout plan started from the form (a bad one refused next to its field),
and the guardrail's pause with its reason when failures arrive."""

from __future__ import annotations

import time
import uuid

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import BROWSER_TIMEOUT_MS, next_version

pytestmark = pytest.mark.e2e


def send_events(stack_api, release: str, outcomes: list[tuple[str, str | None]]) -> None:
    """One phone per outcome: offered, then the outcome (``install.finished`` or ``install.failed``)."""
    for kind, reason in outcomes:
        extra = {"reason": reason} if reason else {}
        body = {"schema": 1, "appId": stack_api.app_id, "workspaceId": stack_api.workspace_id,
                "platform": "android", "deviceId": f"phone-{uuid.uuid4().hex[:10]}", "clientVersion": "1.0",
                "events": [{"id": uuid.uuid4().hex, "type": "check.answered", "at": int(time.time()), "release": release},
                           {"id": uuid.uuid4().hex, "type": kind, "at": int(time.time()), "release": release, **extra}]}  # fmt: skip
        reply = requests.post(f"{stack_api.base}/client/v1/events", json=body, timeout=30)
        assert reply.status_code == 202, reply.text


def test_the_funnel_chart_a_rollout_plan_and_its_guardrail(admin_page, stack_api):
    package = stack_api.android_package(next_version())["packageId"]
    task = stack_api.call(
        "POST", f"/upgrade/packages/{package}/tasks", {"type": "official", "mode": "forced"}, 201
    )
    release = f"upgrade-task-{task['taskId']}"
    send_events(stack_api, release, [("install.finished", None)] * 3)

    page = admin_page
    page.goto(page.url.split("#")[0] + f"#/reach/{release}")
    chart = page.get_by_role("img", name="Devices per stage")
    expect(chart).to_be_visible()
    # the stack's worker counts the queued events; the page shows them once it has (reload until then)
    deadline = time.monotonic() + BROWSER_TIMEOUT_MS / 1000
    while page.locator('g[data-stage="installed"]').get_attribute("data-count") != "3":
        assert time.monotonic() < deadline, "the events were never counted"
        page.reload()
    expect(page.locator('g[data-stage="offered"]')).to_have_attribute("data-count", "3")
    expect(page.get_by_text("No plan: the release reaches every device")).to_be_visible()

    plan = page.get_by_role("form", name="Rollout plan")
    plan.get_by_label("Steps (percent)").fill("50, 20")
    plan.get_by_role("button", name="Start rollout").click()
    expect(plan.get_by_label("Steps (percent)")).to_have_attribute("aria-invalid", "true")
    plan.get_by_label("Steps (percent)").fill("10, 50, 100")
    plan.get_by_label("Pause at failure percent").fill("50")
    plan.get_by_label("…after at least (devices)").fill("5")
    plan.get_by_role("button", name="Start rollout").click()
    expect(page.locator("#rollout-state")).to_contain_text("step 1 of 3: 10% of devices")

    send_events(stack_api, release, [("install.failed", "INSTALL_FAILED_INSUFFICIENT_STORAGE")] * 3)
    deadline = time.monotonic() + BROWSER_TIMEOUT_MS / 1000
    while True:
        expect(page.locator("#rollout-state")).to_be_visible()  # the page has rendered the plan
        if page.locator("#rollout-reason").count():
            break
        assert time.monotonic() < deadline, "the guardrail never tripped"
        page.reload()
    expect(page.locator("#rollout-reason")).to_contain_text("3 of 6 devices failed (50%)")
    expect(page.locator('g[data-stage="installFailed"]')).to_have_attribute("data-count", "3")
    expect(page.get_by_role("cell", name="INSTALL_FAILED_INSUFFICIENT_STORAGE")).to_be_visible()
    task_now = stack_api.call("GET", f"/upgrade/tasks/{task['taskId']}", expect=200)
    assert task_now["status"] == "paused"
