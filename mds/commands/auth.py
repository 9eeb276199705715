"""`mds login`, `mds logout`, `mds whoami`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mds.client import MdsClient, Session
from mds.commands.common import JsonOpt, api_command, out, show


@api_command
def login(
    username: Annotated[str | None, typer.Option("--username", "-u", help="console user")] = None,
    password: Annotated[str | None, typer.Option("--password", "-p", help="omit to be prompted")] = None,
    bootstrap: Annotated[
        Path | None, typer.Option("--bootstrap", help="log in with a local stack's bootstrap.json")
    ] = None,
    endpoint: Annotated[str | None, typer.Option("--endpoint", envvar="MDS_ENDPOINT", help="API URL")] = None,
) -> None:
    """Log in as a console user; the session token is saved (mode 0600) for later commands."""
    if bootstrap is not None:
        creds = json.loads(bootstrap.read_text())
        username, password = creds["username"], creds["password"]
    if username is None:
        username = typer.prompt("Username")
    if password is None:
        password = typer.prompt("Password", hide_input=True)
    session = Session.load()
    if endpoint:
        session.endpoint = endpoint.rstrip("/")
    api = MdsClient(session)
    reply = api.request(
        "POST", "/api/auth/login", body={"username": username, "password": password}, authenticated=False
    )
    session.token, session.username = reply["token"], reply["username"]
    me = MdsClient(session).request("GET", "/api/me")
    if me["workspaces"]:
        session.app_id, session.workspace_id = (
            me["workspaces"][0]["appId"],
            me["workspaces"][0]["workspaceId"],
        )
    path = session.save()
    where = f" (default workspace {session.app_id}/{session.workspace_id})" if session.app_id else ""
    out.print(f"Logged in to {session.endpoint} as [bold]{username}[/bold]{where}; session saved to {path}")


def logout() -> None:
    """Forget the saved session token."""
    session = Session.load()
    session.token = None
    session.save()
    out.print("Logged out.")


@api_command
def whoami(as_json: JsonOpt = False) -> None:
    """Show who you are and the workspaces you have a role in."""
    me = MdsClient(Session.load()).request("GET", "/api/me")
    if as_json:
        show(me, as_json=True)
        return
    out.print(f"{me['principal']}{' (platform admin)' if me['isSuperuser'] else ''}")
    show(
        me,
        as_json=False,
        columns=("appId", "workspaceId", "name", "role"),
        rows=me["workspaces"],
        title="Workspaces",
    )
