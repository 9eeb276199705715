"""Runs the app's ``@app.schedule`` handlers at their rate, as EventBridge rules would.

Only ``rate(...)`` expressions are run locally; a ``cron(...)`` schedule is reported once and
skipped. Like a new EventBridge rule, the first run comes one period after start. A handler
that raises is logged and runs again at its next period.
"""

from __future__ import annotations

import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalice.app import Chalice, ScheduledEventConfig
from chalice.local import LambdaContext

from mds.local.logs import log_event

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> float | None:
    """``rate(5 minutes)`` -> 300.0; None for anything that is not a rate."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


@dataclass
class Schedule:
    name: str
    expression: str
    period: float
    handler: Callable[[dict[str, Any], Any], Any]
    next_run: float


class Scheduler:
    def __init__(
        self,
        schedules: list[Schedule],
        *,
        stack: str,
        region: str,
        account: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.schedules, self.stack, self.region, self.account = schedules, stack, region, account
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_app(
        cls,
        app: Chalice,
        *,
        stack: str,
        region: str,
        account: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> Scheduler:
        now, schedules = clock(), []
        for source in app.event_sources:
            if not isinstance(source, ScheduledEventConfig):
                continue
            expression = source.schedule_expression
            expression = expression if isinstance(expression, str) else expression.to_string()
            period = rate_seconds(expression)
            if period is None:
                log_event(
                    "scheduler",
                    "not_run_locally",
                    level="warning",
                    schedule=source.name,
                    expression=expression,
                )
                continue
            schedules.append(
                Schedule(source.name, expression, period, app.handler_map[source.name], now + period)
            )
        return cls(schedules, stack=stack, region=region, account=account, clock=clock)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_due()
            soonest = min((s.next_run for s in self.schedules), default=self.clock() + 60)
            self._stop.wait(max(0.05, min(1.0, soonest - self.clock())))

    def run_due(self) -> list[str]:
        """Runs every schedule whose time has come; returns their names."""
        ran = []
        for schedule in self.schedules:
            if self.clock() < schedule.next_run:
                continue
            self._invoke(schedule)
            # From now, not from the planned time: a slow run is not followed by a burst.
            schedule.next_run = self.clock() + schedule.period
            ran.append(schedule.name)
        return ran

    def _invoke(self, schedule: Schedule) -> None:
        context = LambdaContext(schedule.name, memory_size=512, max_runtime_ms=60_000)
        try:
            schedule.handler(self.event(schedule), context)
        except Exception as err:  # noqa: BLE001 - logged like a failed Lambda invocation
            log_event(
                "scheduler", "handler_failed", level="error", schedule=schedule.name,
                error=repr(err), traceback=traceback.format_exc(),
            )  # fmt: skip

    def event(self, schedule: Schedule) -> dict[str, Any]:
        """The EventBridge "Scheduled Event" a rule delivers to its target."""
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.account,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [f"arn:aws:events:{self.region}:{self.account}:rule/{self.stack}-{schedule.name}"],
            "detail": {},
        }
