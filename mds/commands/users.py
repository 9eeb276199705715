"""`mds users create|list|set-role|remove`."""

from __future__ import annotations

from typing import Annotated

import typer

from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show

app = typer.Typer(help="Console users of a workspace and their roles (admins only).", no_args_is_help=True)

RoleOpt = Annotated[str, typer.Option("--role", help="admin | release_manager | viewer")]


@app.command("create")
@api_command
def create(
    username: str,
    role: RoleOpt = "viewer",
    password: Annotated[str | None, typer.Option("--password", help="omit to be prompted")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Create a console user with a role in the workspace."""
    if password is None:
        password = typer.prompt("Password for the new user", hide_input=True, confirmation_prompt=True)
    api = client()
    data = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, "/users"),
        body={"username": username, "password": password, "role": role},
    )
    out.print(f"Created user {data['username']} as {data['role']} in {data['appId']}/{data['workspaceId']}.")


@app.command("list")
@api_command
def list_users(app_id: AppOpt = None, workspace_id: WorkspaceOpt = None, as_json: JsonOpt = False) -> None:
    """List the workspace's users."""
    api = client()
    data = api.request("GET", api.workspace_path(app_id, workspace_id, "/users"))
    show(data, as_json=as_json, columns=("username", "role", "createdAt", "createdBy"), rows=data["users"])


@app.command("set-role")
@api_command
def set_role(username: str, role: RoleOpt, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Change a user's role in the workspace."""
    api = client()
    data = api.request(
        "PUT", api.workspace_path(app_id, workspace_id, f"/users/{username}"), body={"role": role}
    )
    out.print(f"{data['username']} is now {data['role']}.")


@app.command("remove")
@api_command
def remove(username: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Remove a user from the workspace."""
    api = client()
    api.request("DELETE", api.workspace_path(app_id, workspace_id, f"/users/{username}"))
    out.print(f"Removed {username}.")
