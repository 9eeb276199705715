"""The one rate limiter: logins per user and per IP, wrong verification codes, device checks and
hotpatch reports all go through here (the rule is ``domain.rate_limits``: a sliding log, no
boundary burst; the store keeps each log under a conditional write).

Two ways to use a limit:
- ``take``: admit one event or refuse it (device checks, hotpatch reports) — atomic per subject;
- ``refuse_if_full`` first, ``record`` later, for limits that count only some outcomes (failed
  logins, wrong codes): the event is known to count only after the password or code was checked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.domain.errors import RateLimited
from chalicelib.domain.rate_limits import EventLog, RateLimit

# A conflict means another request of the same subject wrote first, which is progress for that
# subject; this many in a row is itself a flood.
_MAX_TRIES = 20


def refuse_if_full(limit: RateLimit, subject: str, *, now: float) -> None:
    """Raises ``RateLimited`` when ``subject`` has used up ``limit`` at ``now``; records nothing."""
    from chalicelib.store import ephemeral

    log, _revision = ephemeral.read_log(limit.key(subject))
    log.refuse_if_full(limit, now)


def record(limit: RateLimit, subject: str, *, now: float) -> None:
    """Count one event of ``subject`` at ``now`` (already admitted by ``refuse_if_full``)."""
    _update(limit, subject, now, refuse=False)


def take(limit: RateLimit, subject: str, *, now: float) -> None:
    """Admit one event of ``subject`` at ``now`` and count it, or raise ``RateLimited``."""
    _update(limit, subject, now, refuse=True)


def _update(limit: RateLimit, subject: str, now: float, *, refuse: bool) -> None:
    from chalicelib.store import ephemeral

    key = limit.key(subject)
    for _ in range(_MAX_TRIES):
        log, revision = ephemeral.read_log(key)
        if refuse:
            log.refuse_if_full(limit, now)
        updated: EventLog = log.record(limit, now)
        expires_at = datetime.fromtimestamp(updated.expires_at(limit), UTC)
        if ephemeral.write_log(key, updated, revision=revision, expires_at=expires_at):
            return
    raise RateLimited(limit.refusal, retry_after=1)
