"""`mds config add|list|show|set|enable|disable|delete|import|export|history|rollback`: switch
configuration (docs/config.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from mds.client import ApiError
from mds.commands import common
from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show, upload_file

app = typer.Typer(help="Switch configuration: keys and values delivered to apps.", no_args_is_help=True)

TargetedOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--targeted",
        help="a targeted value (repeat, in order) as JSON, e.g."
        ' \'{"value": "true", "rules": [...], "rollout": {"percent": 20}}\'',
    ),
]


def _targeted(raw: list[str] | None) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    values = []
    for i, text in enumerate(raw):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ApiError(
                400, "InvalidParameter", f"--targeted #{i + 1} is not JSON: {exc}", "targeted", None
            ) from None
        values.append(value)
    return values


def _summary(item: dict[str, Any]) -> str:
    state = "active" if item["active"] else "inactive"
    targeted = len(item.get("targetedValues") or [])
    default = item.get("value")
    return (
        f"{item['key']} ({item['type']}, {item['platform']}, {state}) = "
        f"{'(no default)' if default is None else default}"
        + (f", {targeted} targeted value{'s' if targeted != 1 else ''}" if targeted else "")
        + f"; version {item['version']}, revision {item['revision']}"
    )


def _path(app_id: str | None, workspace_id: str | None, suffix: str = "") -> str:
    return client().workspace_path(app_id, workspace_id, "/config" + suffix)


@app.command("add")
@api_command
def add(
    key: str,
    value_type: Annotated[str, typer.Option("--type", help="string | number | boolean | json")] = "string",
    value: Annotated[str | None, typer.Option("--value", help="the default value")] = None,
    platform: Annotated[str, typer.Option("--platform", help="android | ios | all")] = "all",
    note: Annotated[str | None, typer.Option("--note")] = None,
    targeted: TargetedOpt = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="create it deactivated")] = False,
    as_json: JsonOpt = False,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Add a configuration key (active unless --inactive)."""
    body: dict[str, Any] = {"key": key, "type": value_type, "platform": platform, "active": not inactive}
    if value is not None:
        body["value"] = value
    if note is not None:
        body["note"] = note
    if targeted is not None:
        body["targetedValues"] = _targeted(targeted)
    item = client().request("POST", _path(app_id, workspace_id, "/items"), body=body)
    if as_json:
        show(item, as_json=True)
    else:
        out.print(f"Added {_summary(item)}")


@app.command("list")
@api_command
def list_items(
    keyword: Annotated[
        str | None, typer.Option("--keyword", "-k", help="search key, note and values")
    ] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    page: Annotated[int, typer.Option("--page")] = 1,
    page_size: Annotated[int, typer.Option("--page-size")] = 50,
    as_json: JsonOpt = False,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """List configuration keys (paged), optionally searching by keyword."""
    data = client().request(
        "GET",
        _path(app_id, workspace_id, "/items"),
        query={"keyword": keyword, "platform": platform, "page": page, "pageSize": page_size},
    )
    rows = [
        {**i, "active": "yes" if i["active"] else "no", "targeted": len(i.get("targetedValues") or [])}
        for i in data["items"]
    ]
    columns = ("key", "type", "platform", "value", "targeted", "active", "updatedAt", "updatedBy")
    show(data, as_json=as_json, columns=columns, rows=rows, title=f"{data['total']} config keys")


@app.command("show")
@api_command
def show_item(
    key: str, as_json: JsonOpt = False, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None
) -> None:
    """Show one key with its targeted values."""
    item = client().request("GET", _path(app_id, workspace_id, f"/items/{key}"))
    if as_json:
        show(item, as_json=True)
        return
    out.print(_summary(item))
    if item.get("note"):
        out.print(f"note: {item['note']}")
    for i, t in enumerate(item.get("targetedValues") or []):
        out.print(f"  [{i}] {json.dumps(t, ensure_ascii=False)}")
    out.print(f"created {item['createdAt']} by {item['createdBy']}")
    out.print(f"updated {item['updatedAt']} by {item['updatedBy']}")


@app.command("set")
@api_command
def set_item(
    key: str,
    value: Annotated[str | None, typer.Option("--value", help="the default value")] = None,
    no_default: Annotated[bool, typer.Option("--no-default", help="remove the default value")] = False,
    value_type: Annotated[str | None, typer.Option("--type")] = None,
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    targeted: TargetedOpt = None,
    clear_targeted: Annotated[
        bool, typer.Option("--clear-targeted", help="remove every targeted value")
    ] = False,
    revision: Annotated[int | None, typer.Option("--revision", help="fail if the item moved past it")] = None,
    as_json: JsonOpt = False,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Modify a key (anything but the key itself); --targeted replaces all targeted values."""
    body: dict[str, Any] = {}
    for name, given in (("type", value_type), ("platform", platform), ("note", note), ("value", value)):
        if given is not None:
            body[name] = given
    if no_default:
        body["value"] = None
    if targeted is not None:
        body["targetedValues"] = _targeted(targeted)
    if clear_targeted:
        body["targetedValues"] = []
    if revision is not None:
        body["revision"] = revision
    item = client().request("PATCH", _path(app_id, workspace_id, f"/items/{key}"), body=body)
    if as_json:
        show(item, as_json=True)
    else:
        out.print(f"Updated {_summary(item)}")


def _status(key: str, action: str, app_id: str | None, workspace_id: str | None) -> None:
    item = client().request("POST", _path(app_id, workspace_id, f"/items/{key}/{action}"), body={})
    out.print(f"{action.capitalize()}d {_summary(item)}")


@app.command("enable")
@api_command
def enable(key: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Activate a key: devices get it again."""
    _status(key, "enable", app_id, workspace_id)


@app.command("disable")
@api_command
def disable(key: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Deactivate a key: devices stop getting it (their built-in default applies)."""
    _status(key, "disable", app_id, workspace_id)


@app.command("delete")
@api_command
def delete(key: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Delete a key (its history is kept)."""
    client().request("DELETE", _path(app_id, workspace_id, f"/items/{key}"))
    out.print(f"Deleted config key {key}.")


def _report(result: dict[str, Any]) -> None:
    out.print(
        f"Imported {len(result['imported'])} keys, skipped {len(result['skipped'])} that exist"
        + (f": {', '.join(result['skipped'])}" if result["skipped"] else "")
        + (f"; {len(result['invalid'])} invalid" if result.get("invalid") else "")
        + "."
    )
    for bad in result.get("invalid") or []:
        out.print(f"  invalid: {bad['field']}: {bad['rule']}")


@app.command("import")
@api_command
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="JSON file")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="import the valid items and report the others")
    ] = False,
    wait: Annotated[float, typer.Option("--wait", help="seconds to wait for processing")] = 300.0,
    as_json: JsonOpt = False,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Import a JSON file (what `export` writes): existing keys are skipped; all or nothing otherwise.
    The file goes to S3 with a presigned POST; with --skip-invalid it is sent in the request body."""
    api = client()
    if skip_invalid:
        try:
            document = json.loads(file.read_bytes())
        except ValueError as exc:
            raise ApiError(
                400, "InvalidParameter", f"file: must be a JSON document ({exc})", "file", None
            ) from None
        if isinstance(document, list):
            document = {"items": document}
        body = {**document, "skipInvalid": True} if isinstance(document, dict) else document
        result = api.request("POST", _path(app_id, workspace_id, "/import"), body=body)
    else:
        token = api.request(
            "POST", _path(app_id, workspace_id, "/import-uploads"), body={"filename": file.name}
        )
        upload_file(token["post"], file)
        status_path = api.workspace_path(app_id, workspace_id, f"/uploads/{token['uploadId']}")
        upload = common.wait_for_upload(api, status_path, wait=wait, label="Importing…", every=0.3)
        if upload["status"] == "failed":
            raise ApiError(
                400, "ImportFailed", upload["error"] or "the import failed", "file", token["uploadId"]
            )
        if upload["status"] != "processed":
            out.print(f"Still {upload['status']}; check later with the upload ID {token['uploadId']}.")
            return
        result = upload["result"]
    if as_json:
        show(result, as_json=True)
    else:
        _report(result)


@app.command("export")
@api_command
def export(
    file: Annotated[Path | None, typer.Argument(dir_okay=False, help="write here (default: print)")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Export every key as JSON that `import` takes back unchanged."""
    document = client().request("GET", _path(app_id, workspace_id, "/export"))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if file is None:
        typer.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        out.print(f"Exported {len(document['items'])} keys to {file}.")


@app.command("history")
@api_command
def history(
    key: str, as_json: JsonOpt = False, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None
) -> None:
    """Every version of a key, newest first, with what changed."""
    data = client().request("GET", _path(app_id, workspace_id, f"/items/{key}/history"))
    if as_json:
        show(data, as_json=True)
        return
    for v in data["versions"]:
        out.print(f"version {v['version']}: {v['action']} at {v['at']} by {v['by']}")
        for change in v["changes"]:
            before = json.dumps(change["before"], ensure_ascii=False)
            after = json.dumps(change["after"], ensure_ascii=False)
            out.print(f"    {change['field']}: {before} -> {after}", markup=False)


@app.command("rollback")
@api_command
def rollback(
    key: str,
    to: Annotated[
        int | None, typer.Option("--to", help="the version to restore (default: the previous)")
    ] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Restore an earlier version of a key in one action; devices get it on their next load."""
    body = {"version": to} if to is not None else {}
    item = client().request("POST", _path(app_id, workspace_id, f"/items/{key}/rollback"), body=body)
    out.print(f"Rolled back {_summary(item)}")
