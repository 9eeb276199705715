"""What every product's release tasks share (upgrade, H5, ...): the stored state, the lifecycle
(running → paused ↔ running → ended, ended is terminal and also reached at the end time), the release
types, the rank of task kinds in the priority order, how end times are written, and the release status
of what the tasks release (an upgrade package, an H5 version), derived from its tasks.

Products keep their own task dataclass and mix in ``Lifecycle``; it needs ``id``, ``state``,
``end_time`` (epoch seconds or None) and ``updated_at`` fields.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.errors import Conflict, ValidationError


class ReleaseType(enum.StrEnum):
    GRAY = "gray"
    OFFICIAL = "official"


class TaskState(enum.StrEnum):
    """What is stored. ``Lifecycle.status(now)`` is what is shown (ended from the end time on)."""

    RUNNING = "running"
    PAUSED = "paused"
    ENDED = "ended"


class ReleaseStatus(enum.StrEnum):
    """Where a release (an upgrade package, an H5 version) stands, derived from its tasks."""

    TO_BE_RELEASED = "toBeReleased"  # no task yet
    OFFICIAL = "officialRelease"  # an official task is running
    GRAY = "grayRelease"  # only gray tasks are running
    PAUSED = "paused"  # live tasks, all of them paused
    FINISHED = "finished"  # every task has ended


def release_status(tasks: Iterable[Any], *, now: int) -> ReleaseStatus:
    """Derived from the release's tasks (``Lifecycle`` with a ``release_type``): an official task
    running wins over gray ones."""
    statuses = [(t, t.status(now)) for t in tasks]
    if not statuses:
        return ReleaseStatus.TO_BE_RELEASED
    running = [t for t, s in statuses if s is TaskState.RUNNING]
    if any(t.release_type is ReleaseType.OFFICIAL for t in running):
        return ReleaseStatus.OFFICIAL
    if running:
        return ReleaseStatus.GRAY
    if all(s is TaskState.ENDED for _t, s in statuses):
        return ReleaseStatus.FINISHED
    return ReleaseStatus.PAUSED


# Within one release (package / resource version): official > whitelist gray > time-window gray.
KIND_RANK = {"official": 2, "whitelist": 1, "timeWindow": 0}

# The status moves callers ask for (API, CLI) -> the ``Lifecycle`` method; ``continue`` is mPaaS's word.
ACTIONS = {"pause": "pause", "resume": "resume", "continue": "resume", "end": "end"}


def parse_action(action: object) -> str:
    """The ``Lifecycle`` method for a requested status move. Raises ValidationError("action")."""
    if not isinstance(action, str) or action not in ACTIONS:
        raise ValidationError("action", "must be one of: pause, resume (or continue), end")
    return ACTIONS[action]


def iso_time(epoch: int | None) -> str | None:
    """How end times are shown: ISO-8601 UTC with ``Z`` (None stays None)."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class Lifecycle:
    """State moves of a release task; each refuses an illegal move with ``Conflict(field="action")``."""

    id: str
    state: TaskState
    end_time: int | None
    updated_at: str

    def status(self, now: int) -> TaskState:
        if self.state is TaskState.ENDED or (self.end_time is not None and now >= self.end_time):
            return TaskState.ENDED
        return self.state

    def is_live(self, now: int) -> bool:
        """Running or paused, not ended."""
        return self.status(now) is not TaskState.ENDED

    def is_running(self, now: int) -> bool:
        return self.status(now) is TaskState.RUNNING

    def pause(self, *, now: int, at: str) -> Any:
        """Raises Conflict unless the task is running."""
        self._require(now, TaskState.RUNNING, "paused")
        return replace(self, state=TaskState.PAUSED, updated_at=at)  # type: ignore[type-var]

    def resume(self, *, now: int, at: str) -> Any:
        """Raises Conflict unless the task is paused."""
        self._require(now, TaskState.PAUSED, "continued")
        return replace(self, state=TaskState.RUNNING, updated_at=at)  # type: ignore[type-var]

    def end(self, *, now: int, at: str) -> Any:
        """Raises Conflict if the task has already ended (ended is terminal)."""
        if self.status(now) is TaskState.ENDED:
            raise Conflict(self._ended_message(now, "ended again"), field="action")
        return replace(self, state=TaskState.ENDED, updated_at=at)  # type: ignore[type-var]

    def _require(self, now: int, wanted: TaskState, verb: str) -> None:
        current = self.status(now)
        if current is TaskState.ENDED:
            raise Conflict(self._ended_message(now, verb), field="action")
        if current is not wanted:
            raise Conflict(
                f"task {self.id} is {current.value}; only a {wanted.value} task can be {verb}", field="action"
            )

    def _ended_message(self, now: int, verb: str) -> str:
        why = "its end time has passed" if self.state is not TaskState.ENDED else "it was ended"
        return f"task {self.id} has ended ({why}); an ended task cannot be {verb}"


def parse_time(field_name: str, value: object) -> int:
    """Epoch seconds from an integer or an ISO-8601 text (``2026-01-31T18:00:00+08:00``; no zone = UTC;
    ``2026-01-31 18:00:00`` as mPaaS writes it is ISO-8601 too).

    Raises:
        ValidationError: naming ``field_name``.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return int(moment.timestamp())
    raise ValidationError(
        field_name, "must be an ISO-8601 time (e.g. 2026-01-31T18:00:00+08:00) or epoch seconds"
    )
