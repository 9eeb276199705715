"""`mds keys create|list|revoke`."""

from __future__ import annotations

from typing import Annotated

import typer

from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show

app = typer.Typer(help="AccessKey pairs for the OpenAPI and CI (admins only).", no_args_is_help=True)


@app.command("create")
@api_command
def create(
    role: Annotated[str, typer.Option("--role", help="admin | release_manager | viewer")] = "release_manager",
    description: Annotated[str, typer.Option("--description", help="what the key is for")] = "",
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an AccessKey pair. The secret is shown this once only."""
    api = client()
    data = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, "/access-keys"),
        body={"role": role, "description": description},
    )
    if as_json:
        show(data, as_json=True)
        return
    out.print(f"AccessKey ID:     {data['accessKeyId']}")
    out.print(f"AccessKey secret: {data['accessKeySecret']}")
    out.print("[yellow]Store the secret now: it cannot be shown again.[/yellow]")


@app.command("list")
@api_command
def list_keys(app_id: AppOpt = None, workspace_id: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List the workspace's AccessKeys (never their secrets)."""
    api = client()
    data = api.request("GET", api.workspace_path(app_id, workspace_id, "/access-keys"))
    show(
        data,
        as_json=as_json,
        columns=("accessKeyId", "role", "status", "description", "createdAt", "createdBy"),
        rows=data["accessKeys"],
    )


@app.command("revoke")
@api_command
def revoke(access_key_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Revoke an AccessKey; requests signed with it are refused from now on."""
    api = client()
    api.request("POST", api.workspace_path(app_id, workspace_id, f"/access-keys/{access_key_id}/revoke"))
    out.print(f"Revoked {access_key_id}.")
