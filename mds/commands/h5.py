"""`mds h5 ...`: H5 offline packages — settings, H5 apps, package versions, releases, batch import, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from mds.client import ApiError, MdsClient
from mds.commands import common
from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show, upload_file

app = typer.Typer(help="H5 offline packages: settings, apps, versions, releases.", no_args_is_help=True)

WaitOpt = Annotated[float, typer.Option("--wait", help="seconds to wait for the upload to be processed")]


def _base(api: MdsClient, app_id: str | None, workspace_id: str | None, suffix: str = "") -> str:
    return api.workspace_path(app_id, workspace_id, "/h5" + suffix)


def _wait(api: MdsClient, app_id: str | None, workspace_id: str | None, upload_id: str, wait: float) -> dict:
    path = api.workspace_path(app_id, workspace_id, f"/uploads/{upload_id}")
    return common.wait_for_upload(api, path, wait=wait)


@app.command("vhost")
@api_command
def vhost(
    domain: Annotated[str | None, typer.Argument(help="set it (once), e.g. h5app.com; omit to show")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Show or set the workspace's H5 virtual host domain (it cannot be changed once set)."""
    api = client()
    if domain:
        result = api.request(
            "PUT", _base(api, app_id, workspace_id, "/settings/vhost"), body={"vhost": domain}
        )
        out.print(f"vhost: {result['vhost']}")
        return
    settings = api.request("GET", _base(api, app_id, workspace_id, "/settings"))
    out.print(f"vhost: {settings['vhost'] or '(not set)'}")


@app.command("key")
@api_command
def key(
    file: Annotated[
        Path | None,
        typer.Option("--file", exists=True, dir_okay=False, help="RSA private key (PEM) to upload"),
    ] = None,
    public_out: Annotated[
        Path | None, typer.Option("--public-out", help="write the public key PEM here")
    ] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Upload the package signing key (2048-bit RSA or more; never shown again) or show its status."""
    api = client()
    if file is not None:
        result = api.request(
            "PUT", _base(api, app_id, workspace_id, "/settings/rsa-key"), body={"pem": file.read_text()}
        )
        out.print(f"Key {result['keyId']} stored (sealed).")
    status = api.request("GET", _base(api, app_id, workspace_id, "/settings"))
    if public_out is not None and status["publicKey"]:
        public_out.write_text(status["publicKey"])
    if as_json:
        show(status, as_json=True)
        return
    out.print(f"RSA key: {'exists, id ' + status['keyId'] if status['rsaKeyExists'] else 'none'}")


@app.command("apps")
@api_command
def apps(
    keyword: Annotated[str, typer.Option("--keyword", help="search ID and name")] = "",
    page: Annotated[int, typer.Option("--page")] = 1,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List H5 apps."""
    columns = ("h5Id", "name", "resourceType", "createdAt")
    common.list_and_show(
        "/h5/apps", query={"keyword": keyword or None, "page": page}, columns=columns, rows="items",
        app_id=app_id, workspace_id=workspace_id, as_json=as_json,
    )  # fmt: skip


@app.command("add-app")
@api_command
def add_app(
    h5_id: Annotated[str, typer.Argument(help="8 digits")],
    name: Annotated[str, typer.Option("--name")],
    resource_type: Annotated[str | None, typer.Option("--type", help="normal | global")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Create an H5 app."""
    api = client()
    created = api.request(
        "POST",
        _base(api, app_id, workspace_id, "/apps"),
        body={"h5Id": h5_id, "name": name, "resourceType": resource_type},
    )
    out.print(
        f"Created H5 app {created['h5Id']} ({created['name']}, {created['resourceType'] or 'type not set'})."
    )
    for warning in created.get("warnings", []):
        out.print(f"  [yellow]warning[/yellow]: {warning}")


@app.command("delete-app")
@api_command
def delete_app(h5_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Delete an H5 app with all its versions, tasks and files."""
    api = client()
    api.request("DELETE", _base(api, app_id, workspace_id, f"/apps/{h5_id}"))
    out.print(f"Deleted H5 app {h5_id}.")


@app.command("upload")
@api_command
def upload(
    h5_id: Annotated[str, typer.Argument(help="the H5 app")],
    file: Annotated[Path, typer.Option("--file", exists=True, dir_okay=False, help="the package .zip")],
    version: Annotated[str, typer.Option("--version", help="e.g. 1.0.0.1")],
    client_min: Annotated[str, typer.Option("--min", help='"<ios>;<android>", e.g. "10.1.32;10.2.0"')],
    client_max: Annotated[
        str | None, typer.Option("--max", help='"<ios>;<android>"; empty = no limit')
    ] = None,
    platform: Annotated[str, typer.Option("--platform", help="all | android | ios")] = "all",
    main_url: Annotated[str | None, typer.Option("--main-url", help="e.g. /www/index.html")] = None,
    extend_info: Annotated[
        str | None, typer.Option("--extend-info", help='JSON, e.g. {"asyncReqRate":1800}')
    ] = None,
    resource_type: Annotated[str | None, typer.Option("--type", help="normal | global")] = None,
    network: Annotated[int | None, typer.Option("--network", help="0 Wi-Fi only, 1 any")] = None,
    install: Annotated[int | None, typer.Option("--install", help="0 on open, 1 preload")] = None,
    name: Annotated[str | None, typer.Option("--name")] = None,
    wait: WaitOpt = 300.0,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a package version: its fields, then the zip (checked, signed into an .amr + h5.json)."""
    api = client()
    body = {
        "version": version,
        "platform": platform,
        "clientVersionMin": client_min,
        "clientVersionMax": client_max,
        "mainUrl": main_url,
        "extendInfo": extend_info,
        "resourceType": resource_type,
        "downloadNetwork": network,
        "installType": install,
        "h5Name": name,
        "filename": file.name,
    }
    created = api.request(
        "POST",
        _base(api, app_id, workspace_id, f"/apps/{h5_id}/resources"),
        body=common.compact(body),
    )
    upload_file(created["upload"]["post"], file)
    _wait(api, app_id, workspace_id, created["upload"]["uploadId"], wait)
    resource = api.request("GET", _base(api, app_id, workspace_id, f"/resources/{created['id']}"))
    if as_json:
        show(resource, as_json=True)
    else:
        out.print(f"Resource {resource['id']}: {h5_id} {resource['version']} is {resource['status']}.")
        if resource["status"] == "ready":
            out.print(f"  .amr {resource['fileSize']} bytes, sha256 {resource['sha256']}")
    if resource["status"] == "failed":
        raise ApiError(400, "FileRefused", resource["failure"] or "processing failed", "file", created["id"])


@app.command("resources")
@api_command
def resources(
    h5_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None, as_json: JsonOpt = False
) -> None:
    """List the versions of an H5 app, newest first."""
    columns = ("id", "version", "platform", "clientVersionMin", "clientVersionMax", "status", "createdAt")
    common.list_and_show(
        f"/h5/apps/{h5_id}/resources", query={"pageSize": 100}, columns=columns, rows="items",
        app_id=app_id, workspace_id=workspace_id, as_json=as_json,
    )  # fmt: skip


@app.command("release")
@api_command
def release(
    resource_id: Annotated[str, typer.Argument(help="the version's resource ID")],
    release_type: Annotated[str, typer.Option("--type", help="official | gray")],
    gray_model: Annotated[str | None, typer.Option("--gray-model", help="whitelist | time_window")] = None,
    whitelist: Annotated[list[str] | None, typer.Option("--whitelist", help="whitelist ID (repeat)")] = None,
    end_time: Annotated[
        str | None, typer.Option("--end-time", help='time window end, "YYYY-MM-DD hh:mm:ss" UTC')
    ] = None,
    users: Annotated[int | None, typer.Option("--users", help="time window users count")] = None,
    rules: Annotated[
        str | None, typer.Option("--rules", help='JSON list: [{"type","operation","values"}]')
    ] = None,
    memo: Annotated[str | None, typer.Option("--memo")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a release task for a version."""
    api = client()
    body: dict[str, Any] = {
        "type": release_type,
        "grayModel": gray_model,
        "whitelistIds": whitelist or None,
        "endTime": end_time,
        "usersCount": users,
        "rules": json.loads(rules) if rules else None,
        "memo": memo,
    }
    task = api.request(
        "POST",
        _base(api, app_id, workspace_id, f"/resources/{resource_id}/tasks"),
        body=common.compact(body),
    )
    if as_json:
        show(task, as_json=True)
        return
    out.print(f"Task {task['taskId']}: {task['h5Id']} {task['version']} {_kind(task)}, {task['status']}.")


def _kind(task: dict[str, Any]) -> str:
    return task["type"] if not task.get("grayModel") else f"gray ({task['grayModel']})"


@app.command("tasks")
@api_command
def tasks(
    resource_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None, as_json: JsonOpt = False
) -> None:
    """List the release tasks of a version."""
    columns = ("taskId", "version", "type", "grayModel", "status", "endTime", "usersCount", "createdAt")
    common.list_and_show(
        f"/h5/resources/{resource_id}/tasks", columns=columns, rows="tasks",
        app_id=app_id, workspace_id=workspace_id, as_json=as_json,
    )  # fmt: skip


common.status_commands(
    app,
    path="/h5/tasks/{id}/status",
    noun="Task",
    metavar="task_id",
    helps={
        "pause": "Pause a running task.",
        "resume": "Continue a paused task.",
        "end": "End a task (final); a version with no live task left can no longer be downloaded.",
    },
)


@app.command("import")
@api_command
def batch_import(
    file: Annotated[Path, typer.Option("--file", exists=True, dir_okay=False, help="batch .zip (≤ 300 MB)")],
    wait: WaitOpt = 600.0,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import many packages at once: a zip of <H5 ID>.zip files (+ an optional config .json)."""
    api = client()
    token = api.request("POST", _base(api, app_id, workspace_id, "/imports"), body={"filename": file.name})
    upload_file(token["post"], file)
    result = _wait(api, app_id, workspace_id, token["uploadId"], wait)
    if result["status"] == "failed":
        raise ApiError(400, "FileRefused", result["error"] or "import failed", "file", token["uploadId"])
    if as_json or not result.get("result"):
        show(result, as_json=True)
        return
    columns = ("name", "h5Id", "status", "version", "resourceId", "error")
    show(result, as_json=False, columns=columns, rows=result["result"]["items"])


@app.command("export")
@api_command
def export(
    resource_id: str,
    directory: Annotated[Path, typer.Option("--out", help="folder to write the .amr and h5.json to")] = Path(
        "."
    ),
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Download a version's .amr and h5.json."""
    api = client()
    links = api.request("GET", _base(api, app_id, workspace_id, f"/resources/{resource_id}/export"))
    directory.mkdir(parents=True, exist_ok=True)
    for key in ("amrUrl", "h5JsonUrl"):
        with httpx.stream("GET", links[key], timeout=60) as reply:
            reply.raise_for_status()
            disposition = reply.headers.get("content-disposition", "")
            name = disposition.split("filename=")[-1].strip('"') if "filename=" in disposition else key
            target = directory / name
            with target.open("wb") as f:
                for chunk in reply.iter_bytes():
                    f.write(chunk)
        out.print(f"Wrote {target}")
