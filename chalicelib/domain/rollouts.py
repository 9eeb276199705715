"""Progressive rollouts: a plan of percentage steps, each baked for a while, on any upgrade task, H5
task or hotpatch release — and a guardrail that stops it when devices report failures.

The percentage is the stable rollout of ``domain.rollout`` with one salt per release
(``rollout:<release>``), so raising a step only ever adds devices: whoever was in at 5% is in at 20%.
The plan does not change the release itself; the publisher narrows the release's manifest entry to
the current step (``narrow``), so every product gets the mechanism by its candidate ID alone.

A guardrail reads the release's reach (``domain.events``): once at least ``min_devices`` devices have
finished or failed an install (or download), a failure share at or over ``failure_percent`` trips it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.errors import Conflict, ValidationError
from chalicelib.domain.events import Release
from chalicelib.domain.rollout import format_percent, parse_percent
from chalicelib.domain.targeting import CompiledTarget

MAX_STEPS = 10
MAX_BAKE_MINUTES = 7 * 24 * 60
PRODUCTS = ("upgrade", "h5", "hotpatch")  # config values have a percentage of their own


class PlanState(enum.StrEnum):
    RUNNING = "running"  # ramping: the scheduler moves to the next step once this one has baked
    PAUSED = "paused"  # stopped by a guardrail or by hand; the release was paused too
    DONE = "done"  # the last step (100 %) is reached: the plan no longer narrows the release
    ROLLED_BACK = "rolledBack"  # the release was ended: devices are back to what they had before it


@dataclass(frozen=True)
class Step:
    basis_points: int  # 1..10000
    bake_minutes: int

    def to_json(self) -> dict[str, Any]:
        return {"percent": format_percent(self.basis_points), "bakeMinutes": self.bake_minutes}


@dataclass(frozen=True)
class Guardrail:
    """The one guardrail rule of every product: stop once at least ``min_devices`` have finished
    (succeeded or failed) and the failed share is at least ``failure_percent``."""

    failure_percent: int  # 1..100
    min_devices: int

    def verdict(self, succeeded: int, failed: int, *, unit: str = "devices") -> str | None:
        """Why the guardrail stops the release, or None."""
        finished = succeeded + failed
        if finished < self.min_devices or failed * 100 < self.failure_percent * finished:
            return None
        return (
            f"guardrail: {failed} of {finished} {unit} failed ({failed * 100 // finished}%), "
            f"threshold {self.failure_percent}% after {self.min_devices} {unit}"
        )

    def tripped(self, funnel: Mapping[str, int]) -> str | None:
        """The verdict on a release's reach (``domain.events.reach`` funnel): installs vs failures."""
        failed = funnel.get("installFailed", 0) + funnel.get("downloadFailed", 0)
        return self.verdict(funnel.get("installed", 0), failed)

    def to_json(self) -> dict[str, Any]:
        return {"failurePercent": self.failure_percent, "minDevices": self.min_devices}


@dataclass(frozen=True)
class RolloutPlan:
    release: Release
    steps: tuple[Step, ...]
    step: int  # index into steps
    step_started_at: int  # epoch seconds
    state: PlanState
    guardrail: Guardrail | None = None
    reason: str | None = None  # why it is paused

    @property
    def basis_points(self) -> int:
        return self.steps[self.step].basis_points

    @property
    def salt(self) -> str:
        return f"rollout:{self.release.ref}"

    def next_step_at(self) -> int | None:
        if self.state is not PlanState.RUNNING:
            return None
        return self.step_started_at + self.steps[self.step].bake_minutes * 60

    def advanced(self, now: int) -> RolloutPlan | None:
        """The plan after the scheduler's look at ``now``: the next step once this one has baked, done
        after the last; None when nothing is due."""
        due = self.next_step_at()
        if due is None or now < due:
            return None
        if self.step + 1 == len(self.steps):
            return replace(self, state=PlanState.DONE) if self.basis_points == 10_000 else None
        return replace(self, step=self.step + 1, step_started_at=now)

    def paused(self, reason: str) -> RolloutPlan:
        if self.state is not PlanState.RUNNING:
            raise Conflict(f"the rollout of {self.release.ref} is {self.state.value}, not running")
        return replace(self, state=PlanState.PAUSED, reason=reason)

    def resumed(self, now: int) -> RolloutPlan:
        if self.state is not PlanState.PAUSED:
            raise Conflict(f"the rollout of {self.release.ref} is {self.state.value}, not paused")
        return replace(self, state=PlanState.RUNNING, reason=None, step_started_at=now)

    def rolled_back(self, reason: str) -> RolloutPlan:
        """The plan once its release is ended by a rollback (from running or paused)."""
        if self.state not in (PlanState.RUNNING, PlanState.PAUSED):
            raise Conflict(f"the rollout of {self.release.ref} is {self.state.value}: nothing to roll back")
        return replace(self, state=PlanState.ROLLED_BACK, reason=reason)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "release": self.release.ref,
            "steps": [s.to_json() for s in self.steps],
            "step": self.step,
            "percent": format_percent(self.basis_points),
            "stepStartedAt": self.step_started_at,
            "state": self.state.value,
            "nextStepAt": self.next_step_at() if self.step + 1 < len(self.steps) else None,
        }
        if self.guardrail is not None:
            data["guardrail"] = self.guardrail.to_json()
        if self.reason:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RolloutPlan:
        guard = data.get("guardrail")
        return cls(
            release=Release.parse(data["release"]),
            steps=tuple(Step(parse_percent(s["percent"]), int(s["bakeMinutes"])) for s in data["steps"]),
            step=int(data["step"]),
            step_started_at=int(data["stepStartedAt"]),
            state=PlanState(data["state"]),
            guardrail=Guardrail(int(guard["failurePercent"]), int(guard["minDevices"])) if guard else None,
            reason=data.get("reason"),
        )


def parse_plan(release: Release, data: Mapping[str, Any], *, now: int) -> RolloutPlan:
    """``{"steps": [{"percent", "bakeMinutes"}…], "guardrail": {"failurePercent", "minDevices"}?}``:
    1–10 steps of strictly rising percentages (the last may be 100), each baked 1 minute to 7 days.

    Raises:
        ValidationError: naming the field (``steps[2].percent``) and the rule.
    """
    if release.product not in PRODUCTS:
        raise ValidationError(
            "release", "a rollout plan is for an upgrade task, an H5 task or a hotpatch release"
        )
    unknown = set(data) - {"steps", "guardrail"}
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a known field")
    raw = data.get("steps")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STEPS:
        raise ValidationError("steps", f"must be a list of 1 to {MAX_STEPS} steps")
    steps: list[Step] = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) - {"percent", "bakeMinutes"}:
            raise ValidationError(f"steps[{n}]", "must be {percent, bakeMinutes}")
        points = parse_percent(item.get("percent"), f"steps[{n}].percent")
        if points == 0 or (steps and points <= steps[-1].basis_points):
            raise ValidationError(f"steps[{n}].percent", "must be above 0 and above the step before")
        bake = item.get("bakeMinutes")
        if isinstance(bake, bool) or not isinstance(bake, int) or not 1 <= bake <= MAX_BAKE_MINUTES:
            raise ValidationError(
                f"steps[{n}].bakeMinutes", f"must be a whole number from 1 to {MAX_BAKE_MINUTES}"
            )
        steps.append(Step(points, bake))
    return RolloutPlan(release, tuple(steps), 0, now, PlanState.RUNNING, _guardrail(data.get("guardrail")))


def _guardrail(raw: object) -> Guardrail | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"failurePercent", "minDevices"}:
        raise ValidationError("guardrail", "must be {failurePercent, minDevices}")
    for name, low, high in (("failurePercent", 1, 100), ("minDevices", 1, 1_000_000)):
        value = raw.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(f"guardrail.{name}", f"must be a whole number from {low} to {high}")
    return Guardrail(raw["failurePercent"], raw["minDevices"])


def narrow(candidates: list[Candidate], plans: Mapping[str, RolloutPlan]) -> list[Candidate]:
    """The candidates with each running or paused plan's current step applied to its release's entry.
    A target that has a percentage of its own keeps it (the plan cannot be combined with it)."""
    narrowed = []
    for candidate in candidates:
        plan = plans.get(candidate.id)
        if plan is None or plan.state is PlanState.DONE or candidate.target.rollout is not None:
            narrowed.append(candidate)
            continue
        body = {
            **candidate.target.to_json(),
            "rollout": {"basisPoints": plan.basis_points, "salt": plan.salt},
        }
        narrowed.append(replace(candidate, target=CompiledTarget.from_json(body)))
    return narrowed
