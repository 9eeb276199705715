"""The sliding-log rate limit (chalicelib/domain/rate_limits.py): no boundary burst, exact Retry-After."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import RateLimited
from chalicelib.domain.rate_limits import EventLog, RateLimit

FIFTEEN_MINUTES = 15 * 60
LOGINS = RateLimit("login", 30, FIFTEEN_MINUTES, "too many failed logins")


def admit_all(limit: RateLimit, times: list[float]) -> list[float]:
    """Offer events at ``times`` (ascending); return the times that were admitted."""
    log, admitted = EventLog(), []
    for t in times:
        if not log.is_full(limit, t):
            log = log.record(limit, t)
            admitted.append(t)
    return admitted


def test_failures_straddling_a_fixed_window_boundary_do_not_double_the_budget():
    boundary = 1_800_000_000 - 1_800_000_000 % FIFTEEN_MINUTES  # a 15-minute boundary, as 19:30 UTC was
    before = [boundary - 30 + i for i in range(15)]  # 15 failures just before it
    after = [boundary + i for i in range(15)]  # 15 just after
    log = EventLog()
    for t in before + after:
        log.refuse_if_full(LOGINS, t)
        log = log.record(LOGINS, t)
    with pytest.raises(RateLimited) as refused:
        log.refuse_if_full(LOGINS, boundary + 20)  # the 31st attempt
    # the oldest of the 30 ages out 15 minutes after it happened
    assert refused.value.retry_after == (boundary - 30 + FIFTEEN_MINUTES) - (boundary + 20)


def test_an_event_ages_out_exactly_one_period_later():
    limit = RateLimit("t", 2, 60, "slow down")
    log = EventLog().record(limit, 100.0).record(limit, 110.0)
    assert log.is_full(limit, 159.9)
    assert log.retry_after(limit, 159.9) == 1
    assert not log.is_full(limit, 160.0)  # the event at 100 is no longer inside (100, 160]
    assert log.retry_after(limit, 160.0) == 0


def test_the_log_keeps_only_what_can_still_matter():
    limit = RateLimit("t", 3, 60, "slow down")
    log = EventLog()
    for t in range(10):
        log = log.record(limit, float(t))
    assert log.times == (7000, 8000, 9000)  # milliseconds
    assert log.expires_at(limit) == 69.0
    assert log.live(limit, 68.5).times == (9000,)


def test_a_limit_needs_at_least_one_event_and_one_second():
    with pytest.raises(ValueError):
        RateLimit("t", 0, 60, "x")
    with pytest.raises(ValueError):
        RateLimit("t", 1, 0, "x")


# times as callers give them: seconds, to the millisecond (``time.time()``, ``datetime.timestamp()``)
offers = st.lists(st.integers(0, 2_000_000).map(lambda ms: ms / 1000), max_size=200).map(sorted)
limits = st.builds(lambda n, p: RateLimit("t", n, p, "slow down"), st.integers(1, 12), st.integers(1, 300))


@given(limits, offers)
def test_no_window_of_one_period_ever_holds_more_than_the_limit(limit, times):
    admitted = admit_all(limit, times)
    for start in admitted:  # the busiest windows start at an admitted event
        inside = [t for t in admitted if 0 <= round((t - start) * 1000) < limit.period_seconds * 1000]
        assert len(inside) <= limit.events


@given(limits, offers)
def test_an_event_is_refused_only_when_the_trailing_period_is_full(limit, times):
    log, admitted = EventLog(), []
    for t in times:
        trailing = [a for a in admitted if a > t - limit.period_seconds]
        assert log.is_full(limit, t) == (len(trailing) >= limit.events)
        if not log.is_full(limit, t):
            log = log.record(limit, t)
            admitted.append(t)


@given(limits, offers)
def test_retry_after_is_when_the_next_event_would_be_admitted(limit, times):
    log = EventLog()
    for t in times:
        if not log.is_full(limit, t):
            log = log.record(limit, t)
    now = times[-1] if times else 0.0
    wait = log.retry_after(limit, now)
    assert not log.is_full(limit, now + wait)
    if wait > 1:
        assert log.is_full(limit, now + wait - 1)
