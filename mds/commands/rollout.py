"""`mds rollout …`: progressive rollout plans on a release (docs/events.md "Rollouts")."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show
from mds.commands.reach import ReleaseArg

app = typer.Typer(
    help="Rollout plans: ramp a release in percentage steps, stop it on failures, resume or roll back.",
    no_args_is_help=True,
)


def _path(app_id: str | None, workspace_id: str | None, release: str, tail: str = "") -> str:
    return client().workspace_path(app_id, workspace_id, f"/rollouts/{release}{tail}")


def _describe(plan: dict[str, Any]) -> str:
    steps = " → ".join(f"{s['percent']}%" for s in plan["steps"])
    line = f"{plan['release']}: {plan['state']} at step {plan['step'] + 1} of {len(plan['steps'])} ({steps})"
    return line + (f" — {plan['reason']}" if plan.get("reason") else "")


def _steps(text: str, bake_minutes: int) -> list[dict[str, Any]]:
    """``10,50,100`` → steps baked ``bake_minutes`` each (the API names a bad percentage)."""
    return [
        {"percent": _number(p.strip()), "bakeMinutes": bake_minutes} for p in text.split(",") if p.strip()
    ]


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


@app.command("set")
@api_command
def set_plan(
    release: ReleaseArg,
    steps: Annotated[str, typer.Option("--steps", help="percentages, e.g. 10,50,100")],
    bake: Annotated[int, typer.Option("--bake", help="minutes each step runs before the next")] = 60,
    failure_percent: Annotated[
        int | None, typer.Option("--pause-at", help="guardrail: pause at this failure percent")
    ] = None,
    min_devices: Annotated[
        int, typer.Option("--min-devices", help="guardrail: after this many devices")
    ] = 100,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start (or replace) the plan of a release at its first step."""
    body: dict[str, Any] = {"steps": _steps(steps, bake)}
    if failure_percent is not None:
        body["guardrail"] = {"failurePercent": failure_percent, "minDevices": min_devices}
    plan = client().request("PUT", _path(app_id, workspace_id, release), body=body)
    show(plan, as_json=True) if as_json else out.print(_describe(plan))


def _action(tail: str, method: str = "POST") -> Any:
    @api_command
    def run(
        release: ReleaseArg,
        app_id: AppOpt = None,
        workspace_id: WorkspaceOpt = None,
        as_json: JsonOpt = False,
    ):
        kwargs = {"body": {}} if method == "POST" else {}
        plan = client().request(method, _path(app_id, workspace_id, release, tail), **kwargs)
        show(plan, as_json=True) if as_json else out.print(_describe(plan))

    return run


app.command("show", help="The plan of a release: state, step, guardrail and why it paused.")(
    _action("", "GET")
)
app.command("resume", help="Go on with a paused plan at its step (the release is continued too).")(
    _action("/resume")
)
app.command("rollback", help="End the release: every device goes back to what it had before it.")(
    _action("/rollback")
)


@app.command("remove")
@api_command
def remove(release: ReleaseArg, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Drop the plan: the release reaches every device its targeting allows."""
    client().request("DELETE", _path(app_id, workspace_id, release))
    out.print(f"Removed the rollout plan of {release}.")
