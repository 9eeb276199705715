"""`mds workspaces list|create`."""

from __future__ import annotations

from typing import Annotated

import typer

from mds.commands.common import JsonOpt, api_command, client, out, show

app = typer.Typer(help="Workspaces (an appId + workspaceId pair) you work in.", no_args_is_help=True)


@app.command("list")
@api_command
def list_workspaces(as_json: JsonOpt = False) -> None:
    """List the workspaces you have a role in."""
    data = client().request("GET", "/api/workspaces")
    show(data, as_json=as_json, columns=("appId", "workspaceId", "name", "role"), rows=data["workspaces"])


@app.command("create")
@api_command
def create(
    app_id: Annotated[str, typer.Argument(help="appId, e.g. ALIPUB059F038311550")],
    workspace_id: Annotated[str, typer.Argument(help="workspaceId, e.g. default")],
    name: Annotated[str, typer.Option("--name", help="display name")],
) -> None:
    """Create a workspace (platform admins only); you become its admin."""
    data = client().request(
        "POST", "/api/workspaces", body={"appId": app_id, "workspaceId": workspace_id, "name": name}
    )
    out.print(f"Created workspace {data['appId']}/{data['workspaceId']}.")
