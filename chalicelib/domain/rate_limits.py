"""Rate limits with no boundary burst: "at most N events in any period of P seconds", exactly.

A fixed window (a counter per ``epoch // P``) lets 2N events through in a moment by timing the
boundary: N just before it, N just after. Here each limited subject keeps a *sliding log* of the
times of its last N admitted events. An event is admitted only while fewer than N of them are
younger than P, so no window of length P, wherever it starts, ever holds more than N.

The log never needs more than the newest N times (if those are all live the subject is full; if
one of them has aged out, every older one has too), so the stored state is bounded by N.
This module is pure: the store keeps the log under a conditional write, the services name the
limits (``RateLimit``) and what they count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chalicelib.domain.errors import RateLimited


@dataclass(frozen=True)
class RateLimit:
    """At most ``events`` in any ``period_seconds``; ``refusal`` is what the caller is told."""

    name: str
    events: int
    period_seconds: int
    refusal: str

    def __post_init__(self) -> None:
        if self.events < 1 or self.period_seconds < 1:
            raise ValueError("a rate limit needs at least one event per at least one second")

    def key(self, subject: str) -> str:
        """The store key of one subject's log under this limit (no window number: it slides)."""
        return f"rl#{self.name}#{subject}"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


@dataclass(frozen=True)
class EventLog:
    """The times of a subject's most recent admitted events, in whole milliseconds since the epoch
    (ascending), so that ageing out is exact arithmetic. Methods take ``now`` in seconds."""

    times: tuple[int, ...] = ()

    def live(self, limit: RateLimit, now: float) -> EventLog:
        """Only the events still inside the trailing period ``(now - P, now]``."""
        horizon = _ms(now) - limit.period_seconds * 1000
        return EventLog(tuple(t for t in self.times if t > horizon))

    def is_full(self, limit: RateLimit, now: float) -> bool:
        return len(self.live(limit, now).times) >= limit.events

    def retry_after(self, limit: RateLimit, now: float) -> int:
        """Whole seconds until one more event would be admitted (0 when it would be now)."""
        live = self.live(limit, now).times
        if len(live) < limit.events:
            return 0
        frees_at = live[len(live) - limit.events] + limit.period_seconds * 1000
        return max(1, math.ceil((frees_at - _ms(now)) / 1000))

    def record(self, limit: RateLimit, now: float) -> EventLog:
        """The log with one more event at ``now``, trimmed to what can still matter."""
        times = (*self.live(limit, now).times, _ms(now))
        return EventLog(tuple(sorted(times))[-limit.events :])

    def expires_at(self, limit: RateLimit) -> float:
        """When (seconds since the epoch) the whole log has aged out and may be forgotten."""
        return ((self.times[-1] if self.times else 0) + limit.period_seconds * 1000) / 1000

    def refuse_if_full(self, limit: RateLimit, now: float) -> None:
        """Raises ``RateLimited`` (with Retry-After) when no event may be admitted at ``now``."""
        if self.is_full(limit, now):
            raise RateLimited(limit.refusal, retry_after=self.retry_after(limit, now))
