"""`mds audit`."""

from __future__ import annotations

from typing import Annotated

import typer

from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, show


@api_command
def audit(
    entity_type: Annotated[
        str | None, typer.Option("--entity-type", help="e.g. user, access_key, upload")
    ] = None,
    entity_id: Annotated[str | None, typer.Option("--entity-id")] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="e.g. user:alice or access_key:MDSAK...")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="ISO time, e.g. 2026-01-31T00:00:00Z")] = None,
    until: Annotated[str | None, typer.Option("--until", help="ISO time (exclusive)")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the workspace's audit log, newest first (admins only)."""
    api = client()
    data = api.request(
        "GET",
        api.workspace_path(app_id, workspace_id, "/audit"),
        query={
            "entityType": entity_type,
            "entityId": entity_id,
            "actor": actor,
            "since": since,
            "until": until,
            "limit": limit,
        },
    )
    show(
        data,
        as_json=as_json,
        columns=("at", "actor", "action", "entityType", "entityId", "outcome"),
        rows=data["entries"],
    )
