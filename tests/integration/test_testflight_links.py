"""TestFlight packages in delivery: the public link is offered for ``validDays`` after the package was
created (then neither the manifests nor the dynamic API name it) and a time window admits at most
``testerLimit`` users; the console API shows when the link expires."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from chalicelib.domain import answers
from chalicelib.domain.delivery import decide_each
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import upgrade_delivery
from tests.builders import add_whitelist, later, published_membership
from tests.conftest import ws_path

LINK = "https://testflight.apple.com/join/AbC"


def _answer(tenant: TenantId, device: Device, now: int) -> dict:
    chosen = decide_each(
        upgrade_delivery.candidates(tenant, Platform.IOS, now=now), device, published_membership(tenant), now=now
    )
    return answers.upgrade(chosen, device)


def _package(admin, demo, days: int = 30, testers: int = 100) -> dict:
    body = {"platform": "ios", "distribution": "testFlight", "version": "5.0", "storeUrl": LINK,
            "validDays": days, "testerLimit": testers}  # fmt: skip
    reply = admin.post(ws_path(demo, "/upgrade/packages"), body)
    assert reply.status == 201, reply.body
    return reply.body


def _age(demo, package_id: str, days: int) -> None:
    """The package as if it had been created ``days`` ago."""
    from chalicelib.store import upgrade_packages
    from chalicelib.store.unit_of_work import UnitOfWork

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    before = upgrade_packages.get(tenant, package_id)
    created = (datetime.now(UTC) - timedelta(days=days)).isoformat()
    uow = UnitOfWork()
    upgrade_packages.update(uow, tenant, before, replace(before, created_at=created))
    uow.commit()


def test_the_link_is_offered_until_it_expires(admin, demo):
    tenant = TenantId(demo["appId"], demo["workspaceId"])
    package = _package(admin, demo, days=30)
    created = datetime.fromisoformat(package["createdAt"])
    assert package["linkExpiresAt"] == (created + timedelta(days=30)).isoformat().split(".")[0] + "Z"
    assert package["linkExpired"] is False
    wid = add_whitelist(admin, demo, "testers", "alice")
    task = admin.post(ws_path(demo, f"/upgrade/packages/{package['packageId']}/tasks"),
                      {"type": "gray", "grayModel": "whitelist", "whitelistIds": [wid], "mode": "single"})  # fmt: skip
    assert task.status == 201, task.body
    alice = Device(Platform.IOS, user_id="alice", client_version="4.0")
    now = int(time.time())
    assert _answer(tenant, alice, now)["downloadURL"] == LINK
    [candidate] = upgrade_delivery.candidates(tenant, Platform.IOS, now=now)
    assert candidate.not_after == int(created.timestamp()) + 30 * 86_400  # the manifest entry ends with it
    assert _answer(tenant, alice, candidate.not_after)["resultStatus"] == 201

    _age(demo, package["packageId"], days=31)
    assert _answer(tenant, alice, int(time.time()))["resultStatus"] == 201  # expired: not offered
    shown = admin.get(ws_path(demo, f"/upgrade/packages/{package['packageId']}")).body
    assert shown["linkExpired"] is True
    refused = admin.post(ws_path(demo, f"/upgrade/packages/{package['packageId']}/tasks"),
                         {"type": "gray", "grayModel": "whitelist", "whitelistIds": [wid], "mode": "multiple"})  # fmt: skip
    assert (
        refused.status == 409
        and refused.body["field"] == "validDays"
        and "expired" in refused.body["message"]
    )
    longer = admin.request(
        "PATCH", ws_path(demo, f"/upgrade/packages/{package['packageId']}"), {"validDays": 60}
    )
    assert longer.status == 200 and longer.body["linkExpired"] is False
    assert _answer(tenant, alice, int(time.time()))["downloadURL"] == LINK


def test_a_time_window_admits_at_most_the_tester_limit(admin, demo):
    package = _package(admin, demo, testers=10)
    path = ws_path(demo, f"/upgrade/packages/{package['packageId']}/tasks")
    window = {"type": "gray", "grayModel": "timeWindow", "mode": "single", "endTime": later(days=1)}
    too_many = admin.post(path, {**window, "usersCount": 11})
    assert too_many.status == 400 and too_many.body["field"] == "usersCount"
    assert "tester limit (10)" in too_many.body["message"]
    created = admin.post(path, {**window, "usersCount": 10})
    assert created.status == 201, created.body
    grown = admin.request(
        "PATCH", ws_path(demo, f"/upgrade/tasks/{created.body['taskId']}"), {"usersCount": 50}
    )
    assert grown.status == 400 and grown.body["field"] == "usersCount"


def test_whitelists_may_hold_at_most_the_tester_limit(admin, demo):
    package = _package(admin, demo, testers=3)
    path = ws_path(demo, f"/upgrade/packages/{package['packageId']}/tasks")
    three, two = add_whitelist(admin, demo, "three", "a,b,c"), add_whitelist(admin, demo, "two", "d,e")
    regex = admin.post(
        ws_path(demo, "/whitelists"), {"name": "staff", "type": "regex", "patterns": [r"staff_\d+"]}
    )
    gray = {"type": "gray", "grayModel": "whitelist", "mode": "single"}
    too_many = admin.post(path, {**gray, "whitelistIds": [three, two]})
    assert too_many.status == 400 and too_many.body["field"] == "whitelistIds"
    assert "hold 5 users, more than the TestFlight tester limit (3)" in too_many.body["message"]
    unbounded = admin.post(path, {**gray, "whitelistIds": [three, regex.body["whitelistId"]]})
    assert unbounded.status == 400 and unbounded.body["field"] == "whitelistIds[1]"
    created = admin.post(path, {**gray, "whitelistIds": [three]})
    assert created.status == 201, created.body
    widened = admin.request(
        "PATCH", ws_path(demo, f"/upgrade/tasks/{created.body['taskId']}"), {"whitelistIds": [three, two]}
    )
    assert widened.status == 400 and widened.body["field"] == "whitelistIds"
