"""`mds hotpatch add|list|show|release|releases|pause|resume|end|rollback|stats|keys`."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any

import typer

from mds.client import ApiError
from mds.commands import common
from mds.commands.common import AppOpt, JsonOpt, WorkspaceOpt, api_command, client, out, show, upload_file

app = typer.Typer(
    help="Hotpatches: signed patch packages for an app version, gray/official releases, rollback.",
    no_args_is_help=True,
)


@app.command("add")
@api_command
def add(
    file: Annotated[
        Path, typer.Option("--file", exists=True, dir_okay=False, help=".zip, .js, .lua, .patch, .bin")
    ],
    platform: Annotated[str, typer.Option("--platform", help="android | ios")],
    app_version: Annotated[str, typer.Option("--app-version", help="the installed version it patches")],
    description: Annotated[str | None, typer.Option("--description")] = None,
    sign_with: Annotated[
        Path | None,
        typer.Option(
            "--sign-with", exists=True, dir_okay=False, help="developer-signed: your RSA private key (PEM)"
        ),
    ] = None,
    signature: Annotated[
        str | None,
        typer.Option("--signature", help="developer-signed: base64 RSA-SHA256 signature of the file"),
    ] = None,
    wait: Annotated[float, typer.Option("--wait", help="seconds to wait for the check")] = 120.0,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Add a patch: uploaded, checked, then signed by MDS (default) or verified against your key."""
    api = client()
    base = api.workspace_path(app_id, workspace_id)
    body: dict[str, Any] = {"platform": platform, "appVersion": app_version, "filename": file.name}
    if description:
        body["description"] = description
    if sign_with is not None:
        from chalicelib.security import rsa_keys

        key = rsa_keys.load_private_key(sign_with.read_bytes(), field="--sign-with")
        signature = base64.b64encode(rsa_keys.sign(key, file.read_bytes())).decode("ascii")
    if signature:
        body.update(signer="developer", signature=signature)
    created = api.request("POST", f"{base}/hotpatch/patches", body=body)
    patch_id = created["patchId"]
    out.print(
        f"Added patch {patch_id}: {created['platform']} {created['appVersion']}, "
        f"signed by {created['signer']}."
    )
    upload_file(created["upload"]["post"], file)
    upload = common.wait_for_upload(
        api,
        f"{base}/uploads/{created['upload']['uploadId']}",
        wait=wait,
        label="Checking the patch…",
        every=0.3,
    )
    if upload["status"] == "failed":
        raise ApiError(400, "PatchRefused", f"patch {patch_id} refused: {upload['error']}", "file", None)
    if upload["status"] != "processed":
        out.print(f"The patch is still {upload['status']}; check later with `mds hotpatch show {patch_id}`.")
        return
    _describe(api.request("GET", f"{base}/hotpatch/patches/{patch_id}"))


def _describe(patch: dict[str, Any]) -> None:
    out.print(f"Patch {patch['patchId']} is {patch['status']}.")
    f = patch.get("file")
    if f:
        out.print(
            f"  {f['filename']} ({f['kind']}): {f['size']} bytes, sha256 {f['sha256']}, key {f['keyId']}"
        )
        out.print(f"  url: {f['url']}")
    r = patch["reports"]
    out.print(f"  reports: {r['applied']} applied, {r['failed']} failed")


@app.command("list")
@api_command
def list_patches(
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    app_version: Annotated[str | None, typer.Option("--app-version")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List patches, newest first, with their report counts."""
    columns = ("patchId", "platform", "appVersion", "signer", "status", "applied", "failed", "createdAt")
    common.list_and_show(
        "/hotpatch/patches", query={"platform": platform, "appVersion": app_version}, columns=columns,
        rows=lambda data: _with_counts(data["patches"]), app_id=app_id, workspace_id=workspace_id,
        as_json=as_json,
    )  # fmt: skip


def _with_counts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Table rows with the report counts as their own columns."""
    return [{**i, "applied": i["reports"]["applied"], "failed": i["reports"]["failed"]} for i in items]


@app.command("show")
@api_command
def show_patch(patch_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Show a patch as JSON."""
    api = client()
    show(
        api.request("GET", api.workspace_path(app_id, workspace_id, f"/hotpatch/patches/{patch_id}")),
        as_json=True,
    )


@app.command("release")
@api_command
def release(
    patch_id: str,
    release_type: Annotated[str, typer.Option("--type", help="gray | official")],
    whitelist: Annotated[
        list[str] | None, typer.Option("--whitelist", help="gray: whitelist ID (repeat)")
    ] = None,
    rule: Annotated[
        list[str] | None,
        typer.Option("--rule", help='gray: JSON, e.g. {"type":"city","operation":1,"values":["Shanghai"]}'),
    ] = None,
    failure_percent: Annotated[
        int | None, typer.Option("--pause-at-failure-percent", help="guardrail: pause at this failure rate")
    ] = None,
    min_reports: Annotated[
        int, typer.Option("--min-reports", help="guardrail: after this many reports")
    ] = 20,
    description: Annotated[str | None, typer.Option("--description")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Release a patch: gray to whitelists (with advanced rules) or official, optionally with a guardrail."""
    api = client()
    body: dict[str, Any] = {"type": release_type, "whitelistIds": whitelist, "rules": common.json_rules(rule)}
    if failure_percent is not None:
        body["guardrail"] = {"failurePercent": failure_percent, "minReports": min_reports}
    if description:
        body["description"] = description
    made = api.request(
        "POST",
        api.workspace_path(app_id, workspace_id, f"/hotpatch/patches/{patch_id}/releases"),
        body=common.compact(body),
    )
    guard = made["guardrail"]
    extra = (
        f", pauses at {guard['failurePercent']}% failures after {guard['minReports']} reports"
        if guard
        else ""
    )
    out.print(
        f"Created release {made['releaseId']} of patch {patch_id}: {made['type']}, {made['status']}{extra}."
    )


@app.command("releases")
@api_command
def list_releases(
    patch: Annotated[str | None, typer.Option("--patch")] = None,
    status: Annotated[str | None, typer.Option("--status", help="running | paused | ended | live")] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List releases, newest first."""
    columns = ("releaseId", "patchId", "type", "status", "applied", "failed", "pausedReason")
    common.list_and_show(
        "/hotpatch/releases", query={"patchId": patch, "status": status}, columns=columns,
        rows=lambda data: _with_counts(data["releases"]), app_id=app_id, workspace_id=workspace_id,
        as_json=as_json,
    )  # fmt: skip


common.status_commands(
    app,
    path="/hotpatch/releases/{id}/status",
    noun="Release",
    metavar="release_id",
    helps={
        "pause": "Pause a release (no new devices get it; devices that applied it keep it).",
        "resume": "Continue a paused release.",
        "end": "End a release for good.",
    },
)


@app.command("rollback")
@api_command
def rollback(patch_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None) -> None:
    """Roll a patch back: devices that applied it remove it on their next check and get the previous one."""
    api = client()
    done = api.request(
        "POST", api.workspace_path(app_id, workspace_id, f"/hotpatch/patches/{patch_id}/rollback")
    )
    now = done["devicesNowGet"]
    out.print(
        f"Rolled back patch {patch_id} (rollbackSeq {done['rollbackSeq']}); ended releases: "
        f"{', '.join(done['endedReleaseIds']) or 'none'}; devices outside whitelists now get "
        f"{'patch ' + now if now else 'no patch'}."
    )


@app.command("stats")
@api_command
def stats(
    patch_id: str, app_id: AppOpt = None, workspace_id: WorkspaceOpt = None, as_json: JsonOpt = False
) -> None:
    """Apply outcomes reported by devices: per patch and per release."""
    api = client()
    patch = api.request("GET", api.workspace_path(app_id, workspace_id, f"/hotpatch/patches/{patch_id}"))
    releases = api.request(
        "GET", api.workspace_path(app_id, workspace_id, "/hotpatch/releases"), query={"patchId": patch_id}
    )["releases"]
    if as_json:
        show(
            {"patch": patch["reports"], "releases": {r["releaseId"]: r["reports"] for r in releases}},
            as_json=True,
        )
        return
    r = patch["reports"]
    out.print(
        f"Patch {patch_id} ({patch['status']}): {r['applied']} applied, {r['failed']} failed, "
        f"{r['total']} total."
    )
    for rel in releases:
        c = rel["reports"]
        why = f" — {rel['pausedReason']}" if rel.get("pausedReason") else ""
        out.print(
            f"  release {rel['releaseId']} ({rel['type']}, {rel['status']}): "
            f"{c['applied']} applied, {c['failed']} failed{why}"
        )


@app.command("keys")
@api_command
def keys(
    register: Annotated[
        Path | None,
        typer.Option(
            "--register-developer-key", exists=True, dir_okay=False, help="your RSA public key (PEM)"
        ),
    ] = None,
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The public keys apps pin to verify patches; optionally register your developer public key."""
    api = client()
    path = api.workspace_path(app_id, workspace_id, "/hotpatch/keys")
    if register is not None:
        made = api.request("PUT", path + "/developer", body={"publicKey": register.read_text()})
        out.print(f"Registered developer key {made['keyId']}.")
    data = api.request("GET", path)
    if as_json:
        show(data, as_json=True)
        return
    for which in ("mds", "developer"):
        key = data[which]
        out.print(f"{which}: {key['keyId'] if key else 'not registered'}")
        if key:
            out.print(key["publicKey"].rstrip())
