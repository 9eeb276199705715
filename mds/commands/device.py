"""`mds device check`: simulate a phone asking MDS "anything new for me?" (for QA)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mds.commands.common import AppOpt, WorkspaceOpt, api_command, client, out

if TYPE_CHECKING:
    from mds.device.client import Decision

app = typer.Typer(help="Simulate a device: read the CDN manifests like an app does.", no_args_is_help=True)


@app.command("check")
@api_command
def check(
    product: Annotated[
        str, typer.Argument(help="upgrade | h5 | config | hotpatch, or all (one index request)")
    ],
    platform: Annotated[str, typer.Option("--platform", help="android | ios")],
    version: Annotated[
        str | None, typer.Option("--version", help="the app's client version, e.g. 4.0.0")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="user ID")] = None,
    device_id: Annotated[
        str | None, typer.Option("--device-id", help="device ID (default: sim-<user>)")
    ] = None,
    city: Annotated[str | None, typer.Option("--city")] = None,
    model: Annotated[str | None, typer.Option("--model")] = None,
    net: Annotated[str | None, typer.Option("--net", help="WIFI, 4G, ...")] = None,
    os_version: Annotated[str | None, typer.Option("--os", help="OS version, e.g. 12.0")] = None,
    cdn: Annotated[
        str, typer.Option("--cdn", envvar="MDS_CDN_URL", help="CDN base URL")
    ] = "http://127.0.0.1:8001",
    app_id: AppOpt = None,
    workspace_id: WorkspaceOpt = None,
) -> None:
    """Check for a release as a device would; prints the answer and whether the CDN alone answered it."""
    from chalicelib.domain.targeting import Device
    from mds.device.client import DeviceClient

    api = client()
    ws = api.workspace_path(app_id, workspace_id)
    _, _, _, app, _, workspace = ws.split("/")
    keys = api.request("GET", ws + "/signing-keys")["keys"]  # the keys an app would have pinned at build time
    device_id = device_id or f"sim-{user or 'anonymous'}"
    state_dir = (
        Path(os.environ.get("MDS_DEVICE_DIR", Path.home() / ".mds" / "devices"))
        / f"{app}-{workspace}-{device_id}"
    )
    phone = DeviceClient(
        cdn, api.session.endpoint, app_id=app, workspace_id=workspace, state_dir=state_dir,
        public_keys={k["keyId"]: base64.b64decode(k["publicKey"]) for k in keys},
    )  # fmt: skip
    device = Device(
        platform, user_id=user, device_id=device_id, client_version=version, os_version=os_version,
        model=model, city=city, net_type=net,
    )  # fmt: skip
    if product == "all":
        round_ = phone.check_round(device)
        out.print_json(json.dumps({
            "products": {name: _decision(d) for name, d in round_.decisions.items()},
            "stale": round_.stale,
            "nextCheckAt": round_.next_check_at,
            "requests": round_.requests,
            "bytesTransferred": round_.bytes_transferred,
        }))  # fmt: skip
        return
    decision = phone.check(product, device)
    out.print_json(json.dumps({
        **_decision(decision),
        "stale": decision.stale,
        "nextCheckAt": decision.next_check_at,
        "requests": decision.requests,
        "bytesTransferred": decision.bytes_transferred,
    }))  # fmt: skip


def _decision(decision: Decision) -> dict[str, Any]:
    return {
        "answer": decision.answer,
        "answeredFrom": "cdn" if decision.static else "api",
        "sequence": decision.sequence,
        "candidate": decision.candidate_id,
        "prompt": decision.prompt,
    }
