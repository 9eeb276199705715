"""`mds stats RELEASE`: what the devices reported for one release (device events, docs/events.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show

ReleaseArg = Annotated[
    str, typer.Argument(help="upgrade-task-<id>, h5-task-<id>, hotpatch-release-<id> or config:<key>")
]
_STAGES = ("offered", "prompted", "downloadStarted", "downloaded", "installed")


@api_command
def stats(
    release: ReleaseArg, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None, as_json: JsonOpt = False
) -> None:
    """The funnel of one release: devices offered → prompted → downloaded → installed, failures by reason."""
    api = client()
    data = api.request("GET", api.workspace_path(app_id, workspace_id, f"/reach/{release}"))
    if as_json:
        show(data, as_json=True)
        return
    if data["product"] == "config":
        values = ", ".join(f"{v['value']} on {v['devices']}" for v in data["values"]) or "no device reported"
        out.print(f"{release}: {values}.")
        return
    funnel = data["funnel"]
    out.print(f"{release}: " + " → ".join(f"{funnel[s]} {s}" for s in _STAGES) + " (devices).")
    for kind, reasons in data["failures"].items():
        for reason, devices in sorted(reasons.items(), key=lambda item: -item[1]):
            out.print(f"  {kind} failed on {devices}: {reason}")
    show(data, as_json=False, columns=("day", *_STAGES), rows=data["byDay"], title="per day")
