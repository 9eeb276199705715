"""Every limit the one limiter (services/rate_limits.py) serves, at a fixed-window boundary, on moto,
with an injected clock: the budget is never doubled by timing the boundary, and it comes back once
the oldest event is one period old."""

from __future__ import annotations

import threading

import pytest

from chalicelib.domain.errors import AuthenticationError, NotFound, RateLimited
from chalicelib.domain.rate_limits import RateLimit

BOUNDARY = 1_800_000_000 - 1_800_000_000 % 900  # a 15-minute (and 1-minute) boundary, in seconds


def straddling(count: int, *, spacing: float = 1.0) -> list[float]:
    """``count`` instants, half just before ``BOUNDARY`` and half just after it."""
    first = BOUNDARY - (count // 2) * spacing
    return [first + i * spacing for i in range(count)]


def at(seconds: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(("limit_name", "attempts"), [("per user", 5), ("per IP", 30)])
def test_failed_logins_at_a_window_boundary(demo, limit_name, attempts):
    from chalicelib.services import auth

    def guess(n: int, when: float):
        # per user: the same name each time; per IP: a new name each time from one address
        username = demo["username"] if limit_name == "per user" else f"guess{n:03d}"
        return auth.login(username, "wrong-password", source_ip="203.0.113.9", now=at(when))

    times = straddling(attempts, spacing=0.5)
    for n, when in enumerate(times):
        with pytest.raises(AuthenticationError):
            guess(n, when)
    with pytest.raises(RateLimited) as refused:  # right password, still refused before it is checked
        auth.login(demo["username"], demo["password"], source_ip="203.0.113.9", now=at(times[-1] + 1))
    assert refused.value.retry_after == pytest.approx(times[0] + 900 - (times[-1] + 1), abs=1)
    # the budget comes back as the oldest failures age out, not all at once at a boundary
    session = auth.login(demo["username"], demo["password"], source_ip="203.0.113.9", now=at(times[0] + 900))
    assert session.username == demo["username"]


def test_device_checks_at_a_minute_boundary(demo):
    from chalicelib.services import checks

    device = {"appId": demo["appId"], "workspaceId": demo["workspaceId"], "platform": "android",
              "deviceId": "phone-1"}  # fmt: skip
    times = [int(t) for t in straddling(60, spacing=0.5)]
    for when in times:
        assert checks.check("upgrade", device, now=when)["resultStatus"] == 201
    with pytest.raises(RateLimited) as refused:
        checks.check("upgrade", device, now=times[-1])
    assert 1 <= refused.value.retry_after <= 60
    other = {**device, "deviceId": "phone-2"}
    assert checks.check("upgrade", other, now=times[-1])["resultStatus"] == 201  # per device
    assert checks.check("upgrade", device, now=times[0] + 60)["resultStatus"] == 201


def test_hotpatch_reports_at_a_minute_boundary(demo):
    from chalicelib.services import hotpatch_reports

    report = {"appId": demo["appId"], "workspaceId": demo["workspaceId"], "deviceId": "phone-1",
              "patchId": "999", "outcome": "applied"}  # fmt: skip
    times = [int(t) for t in straddling(10)]
    for when in times:  # admitted (then refused for the unknown patch): each counts
        with pytest.raises(NotFound):
            hotpatch_reports.report(report, now=when)
    with pytest.raises(RateLimited):
        hotpatch_reports.report(report, now=times[-1])
    with pytest.raises(NotFound):
        hotpatch_reports.report(report, now=times[0] + 60)


def test_concurrent_takes_admit_exactly_the_limit(aws):
    from chalicelib.services import rate_limits

    limit = RateLimit("race", 5, 60, "slow down")
    admitted, refused = [], []
    start = threading.Barrier(16)

    def one() -> None:
        start.wait()
        try:
            rate_limits.take(limit, "subject", now=BOUNDARY)
            admitted.append(1)
        except RateLimited:
            refused.append(1)

    threads = [threading.Thread(target=one) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(admitted), len(refused)) == (5, 11)
