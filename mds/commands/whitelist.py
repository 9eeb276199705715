"""`mds whitelist create|list|add|import|remove|show|delete`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mds.client import ApiError
from mds.commands import common
from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show, upload_file

app = typer.Typer(
    help="Whitelists: user-ID lists and regex lists that gray releases target.", no_args_is_help=True
)

IdsArg = Annotated[list[str], typer.Argument(help="user IDs (each may hold several, comma-separated)")]


def _report(data: dict[str, Any], verb: str) -> None:
    changed = data.get("added", data.get("removed", 0))
    unchanged = data.get("alreadyPresent", data.get("notPresent", 0))
    out.print(
        f"{verb} {changed}, unchanged {unchanged}, rejected {data.get('rejectedCount', 0)}; "
        f"the list now has {data['count']} IDs."
    )
    for r in data.get("rejected", [])[:20]:
        out.print(f"  line {r['line']}: {r['reason']} ({r['value'][:40]})")


@app.command("create")
@api_command
def create(
    name: str,
    kind: Annotated[str, typer.Option("--type", help="normal | regex")] = "normal",
    ids: Annotated[str | None, typer.Option("--ids", help="initial IDs, comma/newline separated")] = None,
    pattern: Annotated[
        list[str] | None, typer.Option("--pattern", help="a regex (repeat for several)")
    ] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Create a whitelist."""
    api = client()
    body: dict[str, Any] = {"name": name, "type": kind}
    if ids:
        body["ids"] = ids
    if pattern:
        body["patterns"] = pattern
    data = api.request("POST", api.workspace_path(app_id, workspace_id, "/whitelists"), body=body)
    out.print(f"Created whitelist {data['whitelistId']} ({data['name']}, {data['type']}).")


@app.command("list")
@api_command
def list_whitelists(
    app_id: AppOpt = None, workspace_id: WorkspaceOpt = None, as_json: JsonOpt = False
) -> None:
    """List the workspace's whitelists."""
    api = client()
    data = api.request("GET", api.workspace_path(app_id, workspace_id, "/whitelists"))
    show(
        data,
        as_json=as_json,
        columns=("whitelistId", "name", "type", "count", "updatedAt"),
        rows=data["whitelists"],
    )


@app.command("add")
@api_command
def add(whitelist_id: str, ids: IdsArg, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Add user IDs."""
    api = client()
    data = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, f"/whitelists/{whitelist_id}/members"),
        body={"ids": "\n".join(ids)},
    )
    _report(data, "added")


@app.command("remove")
@api_command
def remove(whitelist_id: str, ids: IdsArg, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Remove user IDs."""
    api = client()
    data = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, f"/whitelists/{whitelist_id}/members/remove"),
        body={"ids": "\n".join(ids)},
    )
    _report(data, "removed")


@app.command("import")
@api_command
def import_file(
    whitelist_id: str,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="text file of IDs")
    ],
    wait: Annotated[float, typer.Option("--wait", help="seconds to wait for processing")] = 120.0,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Import a file of IDs (one per line or comma-separated); it is applied whole or not at all."""
    api = client()
    token = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, f"/whitelists/{whitelist_id}/imports"),
        body={"filename": file.name},
    )
    upload_file(token["post"], file)
    status_path = api.workspace_path(app_id, workspace_id, f"/uploads/{token['uploadId']}")
    upload = common.wait_for_upload(api, status_path, wait=wait, label="Importing…")
    if upload["status"] == "processed":
        _report({**upload["result"]}, "imported")
    elif upload["status"] == "failed":
        raise ApiError(400, "ImportFailed", upload["error"] or "the import failed", "file", token["uploadId"])
    else:
        out.print(f"Still {upload['status']}; check later with the upload ID {token['uploadId']}.")


@app.command("show")
@api_command
def show_whitelist(
    whitelist_id: str,
    search: Annotated[str | None, typer.Option("--search", help="only IDs containing this")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 50,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a whitelist and a page of its members (or its patterns)."""
    api = client()
    base = api.workspace_path(app_id, workspace_id, f"/whitelists/{whitelist_id}")
    meta = api.request("GET", base)
    if meta["type"] == "regex":
        show(
            meta,
            as_json=as_json,
            columns=("pattern",),
            rows=[{"pattern": p} for p in meta["patterns"]],
            title=f"{meta['name']} (regex)",
        )
        return
    page = api.request("GET", base + "/members", query={"q": search, "limit": limit})
    if as_json:
        show({**meta, "members": page}, as_json=True)
        return
    out.print(f"{meta['name']}: {meta['count']} IDs")
    for user_id in page["ids"]:
        out.print(f"  {user_id}")
    if page["nextCursor"]:
        out.print("  …")


@app.command("delete")
@api_command
def delete(whitelist_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Delete a whitelist (refused while a live task uses it)."""
    api = client()
    api.request("DELETE", api.workspace_path(app_id, workspace_id, f"/whitelists/{whitelist_id}"))
    out.print(f"Deleted whitelist {whitelist_id}.")
