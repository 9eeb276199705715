"""`mds rules add|list|update|delete`."""

from __future__ import annotations

from typing import Annotated

import typer

from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show

app = typer.Typer(
    help="Release-rule resources: the cities, models, networks and OS versions rules pick from.",
    no_args_is_help=True,
)

TypeOpt = Annotated[str, typer.Option("--type", help="city | model | network | osVersion")]
PlatformOpt = Annotated[str, typer.Option("--platform", help="android | ios | all")]


@app.command("add")
@api_command
def add(
    name: str,
    value: str,
    rule_type: TypeOpt,
    platform: PlatformOpt = "all",
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Add a rule resource, e.g. `mds rules add Shanghai Shanghai --type city`."""
    api = client()
    data = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, "/release-rules"),
        body={"type": rule_type, "platform": platform, "name": name, "value": value},
    )
    out.print(f"Added rule {data['ruleId']}: {data['type']} {data['value']!r} ({data['platform']}).")


@app.command("list")
@api_command
def list_rules(
    rule_type: Annotated[str | None, typer.Option("--type", help="only this type")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="only this platform")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List rule resources."""
    api = client()
    data = api.request(
        "GET",
        api.workspace_path(app_id, workspace_id, "/release-rules"),
        query={"type": rule_type, "platform": platform},
    )
    show(
        data,
        as_json=as_json,
        columns=("ruleId", "type", "platform", "name", "value", "updatedAt"),
        rows=data["releaseRules"],
    )


@app.command("update")
@api_command
def update(
    rule_id: str,
    name: Annotated[str | None, typer.Option("--name")] = None,
    value: Annotated[str | None, typer.Option("--value")] = None,
    rule_type: Annotated[str | None, typer.Option("--type")] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Modify a rule resource."""
    api = client()
    body = {
        k: v for k, v in {"name": name, "value": value, "type": rule_type, "platform": platform}.items() if v
    }
    data = api.request(
        "PUT", api.workspace_path(app_id, workspace_id, f"/release-rules/{rule_id}"), body=body
    )
    out.print(
        f"Rule {data['ruleId']} is now {data['type']} {data['value']!r} ({data['platform']}), "
        f"named {data['name']!r}."
    )


@app.command("delete")
@api_command
def delete(
    rule_ids: Annotated[list[str], typer.Argument(help="one or more rule IDs; all are deleted or none")],
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Delete rule resources (several at once: all or nothing)."""
    api = client()
    data = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, "/release-rules/batch-delete"),
        body={"ruleIds": rule_ids},
    )
    out.print(f"Deleted {', '.join(data['deleted'])}.")
