"""Which upgrade a device gets: candidates() in priority order with decide(), and the time-window quota."""

from __future__ import annotations

import concurrent.futures
import time
from datetime import UTC, datetime, timedelta

from chalicelib.domain import answers
from chalicelib.domain.delivery import NeedsServer, decide, decide_each
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import upgrade_delivery
from tests.builders import add_android, upgrade_answer
from tests.conftest import ws_path


def _tenant(demo) -> TenantId:
    return TenantId(demo["appId"], demo["workspaceId"])


def _task(admin, demo, package_id: str, **body) -> str:
    reply = admin.post(ws_path(demo, f"/upgrade/packages/{package_id}/tasks"), body)
    assert reply.status == 201, reply.body
    return reply.body["taskId"]


def _set(admin, demo, task_id: str, action: str) -> None:
    assert admin.post(ws_path(demo, f"/upgrade/tasks/{task_id}/status"), {"action": action}).status == 200


def test_story_1_priority(admin, demo, aws):
    """PRODUCT.md story 1 (guide §4.3): B beats A until paused; official beats both; 5.1 beats 5.0."""
    tenant = _tenant(demo)
    wid = admin.post(ws_path(demo, "/whitelists"), {"name": "qa", "type": "normal", "ids": "alice"}).body[
        "whitelistId"
    ]
    p50 = add_android(admin, demo, aws, "5.0")["packageId"]
    a = _task(admin, demo, p50, type="gray", grayModel="whitelist", whitelistIds=[wid], mode="single",
              clientVersions=["4.0-4.0"], guideMemo="A")  # fmt: skip
    b = _task(admin, demo, p50, type="gray", grayModel="whitelist", whitelistIds=[wid], mode="forced",
              clientVersions=["4.0-4.0"], guideMemo="B")  # fmt: skip
    alice = Device(Platform.ANDROID, user_id="alice", client_version="4.0")
    bob = Device(Platform.ANDROID, user_id="bob", client_version="4.0")
    alice_41 = Device(Platform.ANDROID, user_id="alice", client_version="4.1")

    order = [c.id for c in upgrade_delivery.candidates(tenant, Platform.ANDROID, now=int(time.time()))]
    assert order == [f"upgrade-task-{b}", f"upgrade-task-{a}"]  # same package and type: the latest first
    got = upgrade_answer(tenant, alice)
    assert (got["resultStatus"], got["taskId"], got["guideMemo"], got["userId"]) == (206, b, "B", "alice")
    assert (
        got["newestVersion"] == "5.0"
        and got["upgradeFullVersion"] == "5.0"
        and got["upgradeShortVersion"] == "5.0"
    )
    assert (
        "/download/" in got["downloadURL"] and "key=" in got["downloadURL"] and got["needClientNetType"] == ""
    )
    assert upgrade_answer(tenant, bob) == {"resultStatus": 201, "userId": "bob"}  # not whitelisted
    assert upgrade_answer(tenant, alice_41)["resultStatus"] == 201  # not a targeted client version

    _set(admin, demo, b, "pause")
    got = upgrade_answer(tenant, alice)
    assert (got["resultStatus"], got["taskId"], got["silentPeriodDays"]) == (202, a, 3)
    _set(admin, demo, b, "continue")
    assert upgrade_answer(tenant, alice)["taskId"] == b
    _set(admin, demo, b, "end")
    assert upgrade_answer(tenant, alice)["taskId"] == a

    official = _task(admin, demo, p50, type="official", mode="multiple", clientVersions=["4.0-4.0"])
    assert upgrade_answer(tenant, alice)["taskId"] == official and upgrade_answer(tenant, alice)["resultStatus"] == 204
    assert upgrade_answer(tenant, bob)["taskId"] == official

    p51 = add_android(admin, demo, aws, "5.1")["packageId"]
    newer = _task(admin, demo, p51, type="gray", grayModel="whitelist", whitelistIds=[wid], mode="single",
                  clientVersions=["4.0-4.0"])  # fmt: skip
    order = [c.id for c in upgrade_delivery.candidates(tenant, Platform.ANDROID, now=int(time.time()))]
    assert order == [f"upgrade-task-{t}" for t in (newer, official, a)]
    got = upgrade_answer(tenant, alice)
    assert (got["taskId"], got["newestVersion"]) == (newer, "5.1")  # a higher version wins, even gray
    assert upgrade_answer(tenant, bob)["taskId"] == official  # bob is not on the 5.1 whitelist
    assert upgrade_delivery.candidates(tenant, Platform.IOS, now=int(time.time())) == []


def _window_task(admin, demo, users: int, *, hours: int = 20, version: str = "5.0") -> tuple[str, int]:
    body = {
        "platform": "ios",
        "distribution": "appStore",
        "version": version,
        "storeUrl": "https://apps.apple.com/app/id1",
    }
    package = admin.post(ws_path(demo, "/upgrade/packages"), body).body["packageId"]
    end = datetime.now(UTC) + timedelta(hours=hours)
    task = _task(admin, demo, package, type="gray", grayModel="timeWindow", mode="single", endTime=end.isoformat(),
                 usersCount=users, clientVersions=["3.0-3.9.9"])  # fmt: skip
    return task, int(end.timestamp())


def test_story_2_time_window_grants_exactly_n_under_concurrency(admin, demo):
    tenant = _tenant(demo)
    task_id, end = _window_task(admin, demo, 50)
    now = int(time.time())
    [candidate] = upgrade_delivery.candidates(tenant, Platform.IOS, now=now)
    assert (
        candidate.dynamic
        and candidate.not_after == end
        and candidate.payload["downloadURL"].startswith("https://apps.")
    )
    devices = [Device(Platform.IOS, user_id=f"user-{n}", client_version="3.2") for n in range(200)]
    try:
        decide([candidate], devices[0], None, now=now)
        raise AssertionError("a dynamic candidate must send the device to the server")
    except NeedsServer as needs:
        assert needs.candidate.id == f"upgrade-task-{task_id}"

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        granted = list(pool.map(lambda d: upgrade_delivery.claim(tenant, candidate, d, now=now), devices))
    winners = [d for d, won in zip(devices, granted, strict=True) if won]
    assert len(winners) == 50 and len({d.user_id for d in winners}) == 50
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{task_id}")).body["claimed"] == 50
    # winners keep getting it, nobody else does
    assert all(upgrade_delivery.claim(tenant, candidate, d, now=now + 60) for d in winners)
    losers = [d for d, won in zip(devices, granted, strict=True) if not won]
    assert not any(upgrade_delivery.claim(tenant, candidate, d, now=now + 60) for d in losers[:20])
    claim = lambda c, d=winners[0]: upgrade_delivery.claim(tenant, c, d, now=now)  # noqa: E731
    chosen = decide_each([candidate], winners[0], None, now=now, claim=claim)
    assert answers.upgrade(chosen, winners[0])["resultStatus"] == 202
    # after the end time nobody gets it, winners included
    assert decide([candidate], winners[0], None, now=end, claim=claim) is None
    assert not upgrade_delivery.claim(tenant, candidate, winners[0], now=end)
    assert upgrade_delivery.candidates(tenant, Platform.IOS, now=end) == []


def test_one_user_asking_concurrently_counts_once(admin, demo):
    tenant = _tenant(demo)
    task_id, _end = _window_task(admin, demo, 3)
    now = int(time.time())
    [candidate] = upgrade_delivery.candidates(tenant, Platform.IOS, now=now)
    same = Device(Platform.IOS, user_id="carol", client_version="3.0")
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        granted = list(
            pool.map(lambda _n: upgrade_delivery.claim(tenant, candidate, same, now=now), range(10))
        )
    assert all(granted)
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{task_id}")).body["claimed"] == 1
    anonymous = Device(Platform.IOS, client_version="3.0")
    assert upgrade_delivery.claim(tenant, candidate, anonymous, now=now) is False
    by_device = Device(Platform.IOS, device_id="phone-1", client_version="3.0")
    assert upgrade_delivery.claim(tenant, candidate, by_device, now=now) is True  # identity: device ID


def test_a_paused_time_window_task_grants_no_new_places(admin, demo):
    tenant = _tenant(demo)
    task_id, _end = _window_task(admin, demo, 5)
    now = int(time.time())
    [candidate] = upgrade_delivery.candidates(tenant, Platform.IOS, now=now)
    first = Device(Platform.IOS, user_id="u1", client_version="3.0")
    assert upgrade_delivery.claim(tenant, candidate, first, now=now)
    _set(admin, demo, task_id, "pause")
    assert upgrade_delivery.candidates(tenant, Platform.IOS, now=now) == []
    # a device holding a stale manifest still reaches the server: the claim itself checks the task
    assert not upgrade_delivery.claim(
        tenant, candidate, Device(Platform.IOS, user_id="u2", client_version="3.0"), now=now
    )
    _set(admin, demo, task_id, "continue")
    assert upgrade_delivery.claim(
        tenant, candidate, Device(Platform.IOS, user_id="u2", client_version="3.0"), now=now
    )
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{task_id}")).body["claimed"] == 2


def test_time_window_loses_to_whitelist_and_official_of_the_same_package(admin, demo):
    tenant = _tenant(demo)
    wid = admin.post(ws_path(demo, "/whitelists"), {"name": "qa", "type": "normal", "ids": "dave"}).body[
        "whitelistId"
    ]
    body = {
        "platform": "ios",
        "distribution": "appStore",
        "version": "5.0",
        "storeUrl": "https://apps.apple.com/app/id1",
    }
    package = admin.post(ws_path(demo, "/upgrade/packages"), body).body["packageId"]
    end = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    window = _task(
        admin, demo, package, type="gray", grayModel="timeWindow", mode="single", endTime=end, usersCount=9
    )
    listed = _task(
        admin, demo, package, type="gray", grayModel="whitelist", whitelistIds=[wid], mode="multiple"
    )
    official = _task(admin, demo, package, type="official", mode="forced")
    order = [c.id for c in upgrade_delivery.candidates(tenant, Platform.IOS, now=int(time.time()))]
    assert order == [f"upgrade-task-{t}" for t in (official, listed, window)]
    _set(admin, demo, official, "end")
    assert upgrade_answer(tenant, Device(Platform.IOS, user_id="dave", client_version="4.0"))["taskId"] == listed
    try:
        upgrade_answer(tenant, Device(Platform.IOS, user_id="erin", client_version="4.0"))
        raise AssertionError("erin only matches the time window: the server must decide")
    except NeedsServer as needs:
        assert needs.candidate.id == f"upgrade-task-{window}"


def test_through_the_published_manifests_and_the_check_api(admin, demo, aws, api):
    """The same decisions via the real surfaces: commits publish manifests; the device API claims."""
    wid = admin.post(ws_path(demo, "/whitelists"), {"name": "qa", "type": "normal", "ids": "alice"}).body[
        "whitelistId"
    ]
    p50 = add_android(admin, demo, aws, "5.0")["packageId"]
    listed = _task(admin, demo, p50, type="gray", grayModel="whitelist", whitelistIds=[wid], mode="forced",
                   clientVersions=["4.0-4.0"])  # fmt: skip
    end = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    window = _task(
        admin, demo, p50, type="gray", grayModel="timeWindow", endTime=end, usersCount=2, mode="single"
    )
    base = {"appId": demo["appId"], "workspaceId": demo["workspaceId"], "platform": "android"}

    def check(user: str, version: str = "4.5") -> dict:
        reply = api.post(
            "/client/v1/upgrade/check", {**base, "clientVersion": version, "userId": user}, token=""
        )
        assert reply.status == 200, reply.body
        return reply.body

    assert (check("alice", "4.0")["taskId"], check("alice", "4.0")["resultStatus"]) == (listed, 206)
    answers = [check(user) for user in ("b1", "b2", "b3", "b1")]
    assert [a["resultStatus"] for a in answers] == [202, 202, 201, 202]  # 2 places; b1 keeps its own
    assert answers[0]["taskId"] == window and answers[2] == {"resultStatus": 201, "userId": "b3"}
    _set(admin, demo, listed, "pause")
    # the whitelist task paused, alice falls through to the time window, which is full
    assert check("alice", "4.0") == {"resultStatus": 201, "userId": "alice"}
    _set(admin, demo, listed, "continue")
    assert check("alice", "4.0")["taskId"] == listed
