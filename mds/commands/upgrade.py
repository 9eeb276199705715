"""`mds upgrade package add|list|show|delete` and `mds upgrade task create|set|list|show|pause|resume|end`."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any

import typer

from mds.client import ApiError, MdsClient
from mds.commands import common
from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show, upload_file

app = typer.Typer(help="Version upgrades: release packages and their release tasks.", no_args_is_help=True)
package_app = typer.Typer(
    help="Release packages (APK, App Store, Enterprise IPA, TestFlight).", no_args_is_help=True
)
task_app = typer.Typer(help="Release tasks: who gets a package, and how insistently.", no_args_is_help=True)
app.add_typer(package_app, name="package")
app.add_typer(task_app, name="task")

FileOpt = Annotated[Path | None, typer.Option("--file", exists=True, dir_okay=False, help=".apk or .ipa")]
WaitOpt = Annotated[float, typer.Option("--wait", help="seconds to wait for each file to be processed")]


def _send(api: MdsClient, base: str, token: dict[str, Any], file: Path, wait: float, what: str) -> None:
    upload_file(token["post"], file)
    upload = common.wait_for_upload(api, f"{base}/uploads/{token['uploadId']}", wait=wait)
    if upload["status"] == "failed":
        raise ApiError(400, "FileRefused", f"{what}: {upload['error']}", "file", token["uploadId"])
    if upload["status"] != "processed":
        out.print(f"The {what} is still {upload['status']}; check later with `mds upgrade package show`.")


@package_app.command("add")
@api_command
def add_package(
    platform: Annotated[str, typer.Option("--platform", help="android | ios")],
    version: Annotated[str, typer.Option("--version", help="e.g. 5.0.1.2")],
    file: FileOpt = None,
    distribution: Annotated[
        str | None, typer.Option("--distribution", help="iOS: appStore | enterprise | testFlight")
    ] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    code: Annotated[str | None, typer.Option("--code", help="download verification code (4-32)")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="App Store address / TestFlight public link")
    ] = None,
    valid_days: Annotated[int | None, typer.Option("--valid-days", help="TestFlight")] = None,
    tester_limit: Annotated[int | None, typer.Option("--tester-limit", help="TestFlight")] = None,
    bundle_id: Annotated[str | None, typer.Option("--bundle-id", help="Enterprise")] = None,
    icon: Annotated[
        Path | None, typer.Option("--icon", exists=True, dir_okay=False, help="Enterprise")
    ] = None,
    symbols: Annotated[
        Path | None, typer.Option("--symbols", exists=True, dir_okay=False, help="dSYM .tgz")
    ] = None,
    wait: WaitOpt = 300.0,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Add a release package; its file (and icon, symbols) are uploaded and checked."""
    api = client()
    base = api.workspace_path(app_id, workspace_id)
    body = {
        "platform": platform,
        "version": version,
        "distribution": distribution,
        "description": description,
        "verificationCode": code,
        "storeUrl": url,
        "validDays": valid_days,
        "testerLimit": tester_limit,
        "bundleId": bundle_id,
        "filename": file.name if file else None,
    }
    created = api.request(
        "POST", f"{base}/upgrade/packages", body={k: v for k, v in body.items() if v is not None}
    )
    package_id = created["packageId"]
    out.print(
        f"Added package {package_id}: {created['platform']} {created['distribution']} {created['version']}."
    )
    if file is not None:
        _send(api, base, created["upload"], file, wait, "package file")
    for kind, extra in (("icon", icon), ("symbols", symbols)):
        if extra is not None:
            token = api.request(
                "POST",
                f"{base}/upgrade/packages/{package_id}/uploads",
                body={"kind": kind, "filename": extra.name},
            )
            _send(api, base, token, extra, wait, kind)
    _describe(api.request("GET", f"{base}/upgrade/packages/{package_id}"))


def _describe(package: dict[str, Any]) -> None:
    out.print(f"Package {package['packageId']} is {package['status']}; file: {package['fileStatus']}.")
    if package.get("file"):
        f = package["file"]
        out.print(f"  {f['filename']}: {f['size']} bytes, sha256 {f['sha256']}")
    if package.get("fileError"):
        out.print(f"  [red]refused[/red]: {package['fileError']}")
    for warning in package.get("warnings", []):
        out.print(f"  [yellow]warning[/yellow]: {warning}")
    if package.get("downloadUrl"):
        lock = " (asks for the verification code)" if package.get("verificationRequired") else ""
        out.print(f"  download: {package['downloadUrl']}{lock}")


@package_app.command("list")
@api_command
def list_packages(
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List release packages, newest first."""
    columns = ("packageId", "platform", "distribution", "version", "status", "fileStatus", "updatedAt")
    common.list_and_show(
        "/upgrade/packages", query={"platform": platform}, columns=columns, rows="packages",
        app_id=app_id, workspace_id=workspace_id, as_json=as_json,
    )  # fmt: skip


@package_app.command("show")
@api_command
def show_package(
    package_id: str,
    qr: Annotated[
        Path | None, typer.Option("--qr", help="write the QR code of the download link (.png or .svg)")
    ] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a package (status, file, warnings, download link); optionally save its QR code."""
    api = client()
    path = api.workspace_path(app_id, workspace_id, f"/upgrade/packages/{package_id}")
    package = api.request("GET", path)
    if qr is not None:
        code = api.request("GET", path + "/qrcode")
        if qr.suffix.lower() == ".svg":
            qr.write_text(code["svg"])
        else:
            qr.write_bytes(base64.b64decode(code["png"]))
    if as_json:
        show(package, as_json=True)
        return
    _describe(package)
    if qr is not None:
        out.print(f"  QR code written to {qr}")


@package_app.command("delete")
@api_command
def delete_package(package_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Delete a package with its ended tasks (refused while a task is live)."""
    api = client()
    api.request("DELETE", api.workspace_path(app_id, workspace_id, f"/upgrade/packages/{package_id}"))
    out.print(f"Deleted package {package_id}.")


@task_app.command("create")
@api_command
def create_task(
    package_id: str,
    release_type: Annotated[str, typer.Option("--type", help="gray | official")],
    mode: Annotated[str, typer.Option("--mode", help="single | multiple | forced")],
    model: Annotated[str | None, typer.Option("--model", help="gray: whitelist | timeWindow")] = None,
    whitelist: Annotated[list[str] | None, typer.Option("--whitelist", help="whitelist ID (repeat)")] = None,
    end_time: Annotated[str | None, typer.Option("--end-time", help="time window: ISO-8601 end")] = None,
    users: Annotated[int | None, typer.Option("--users", help="time window: how many users")] = None,
    client_versions: Annotated[
        list[str] | None,
        typer.Option("--client-versions", help='e.g. "4.0-4.9" (repeat); default: all lower'),
    ] = None,
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", help='gray: JSON, e.g. {"type":"city","operation":1,"values":["Shanghai"]}'),
    ] = None,
    memo: Annotated[str | None, typer.Option("--memo", help="prompt message shown to users")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    net_type: Annotated[str | None, typer.Option("--net-type", help="e.g. 4G,WIFI")] = None,
    silent_days: Annotated[int | None, typer.Option("--silent-days", help="single reminder: days")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Create a release task for a package."""
    api = client()
    body = {
        "type": release_type,
        "mode": mode,
        "grayModel": model,
        "whitelistIds": whitelist,
        "endTime": end_time,
        "usersCount": users,
        "clientVersions": client_versions,
        "rules": common.json_rules(rule),
        "guideMemo": memo,
        "description": description,
        "needClientNetType": net_type,
        "silentPeriodDays": silent_days,
    }
    task = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, f"/upgrade/packages/{package_id}/tasks"),
        body=common.compact(body),
    )
    kind = task["type"] if task["grayModel"] is None else f"gray ({task['grayModel']})"
    out.print(
        f"Created task {task['taskId']}: {kind}, {task['mode']} ({task['resultStatus']}), {task['status']}."
    )


@task_app.command("set")
@api_command
def set_task(
    task_id: str,
    memo: Annotated[str | None, typer.Option("--memo", help="prompt message shown to users")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="single | multiple | forced")] = None,
    silent_days: Annotated[int | None, typer.Option("--silent-days", help="single reminder: days")] = None,
    client_versions: Annotated[
        list[str] | None, typer.Option("--client-versions", help='e.g. "4.0-4.9" (repeat; replaces)')
    ] = None,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="gray: JSON rule (repeat; replaces the rules)")
    ] = None,
    no_rules: Annotated[bool, typer.Option("--no-rules", help="remove every advanced rule")] = False,
    whitelist: Annotated[
        list[str] | None, typer.Option("--whitelist", help="whitelist ID (repeat; replaces)")
    ] = None,
    net_type: Annotated[str | None, typer.Option("--net-type", help="e.g. 4G,WIFI")] = None,
    end_time: Annotated[str | None, typer.Option("--end-time", help="time window: ISO-8601 end")] = None,
    users: Annotated[int | None, typer.Option("--users", help="time window: how many users")] = None,
    revision: Annotated[int | None, typer.Option("--revision", help="refuse if changed since")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Modify a released task; the options not given keep their value (type and model never change)."""
    api = client()
    body = {
        "guideMemo": memo,
        "description": description,
        "mode": mode,
        "silentPeriodDays": silent_days,
        "clientVersions": client_versions,
        "rules": [] if no_rules else common.json_rules(rule),
        "whitelistIds": whitelist,
        "needClientNetType": net_type,
        "endTime": end_time,
        "usersCount": users,
        "revision": revision,
    }
    task = api.request(
        "PATCH",
        api.workspace_path(app_id, workspace_id, f"/upgrade/tasks/{task_id}"),
        body=common.compact(body),
    )
    out.print(f"Task {task['taskId']} is at revision {task['revision']}, {task['status']}.")


@task_app.command("list")
@api_command
def list_tasks(
    package: Annotated[str | None, typer.Option("--package", help="only this package's tasks")] = None,
    status: Annotated[str | None, typer.Option("--status", help="running | paused | ended | live")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List release tasks, newest first."""
    columns = ("taskId", "packageId", "type", "grayModel", "mode", "status", "createdAt")
    common.list_and_show(
        "/upgrade/tasks", query={"packageId": package, "status": status}, columns=columns, rows="tasks",
        app_id=app_id, workspace_id=workspace_id, as_json=as_json,
    )  # fmt: skip


@task_app.command("show")
@api_command
def show_task(task_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Show a task as JSON."""
    api = client()
    show(
        api.request("GET", api.workspace_path(app_id, workspace_id, f"/upgrade/tasks/{task_id}")),
        as_json=True,
    )


common.status_commands(
    task_app,
    path="/upgrade/tasks/{id}/status",
    noun="Task",
    metavar="task_id",
    helps={
        "pause": "Pause a running task (devices stop getting it).",
        "resume": "Continue a paused task.",
        "end": "End a task for good (an ended task never comes back).",
    },
)
