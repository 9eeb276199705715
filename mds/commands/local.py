"""`mds local up`: the local stack (`make run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Run MDS locally: moto, the API, the event worker, the scheduler and the CDN emulator."
)


@app.callback()
def _local() -> None:
    """Keeps `up` a sub-command even while it is the only one."""


@app.command()
def up(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", envvar="MDS_DATA_DIR", help="State kept across restarts.")
    ] = Path(".mds"),
    port: Annotated[int, typer.Option("--port", envvar="MDS_PORT", help="API (Chalice) port.")] = 8000,
    cdn_port: Annotated[
        int, typer.Option("--cdn-port", envvar="MDS_CDN_PORT", help="CDN emulator port.")
    ] = 8001,
    moto_port: Annotated[
        int, typer.Option("--moto-port", envvar="MDS_MOTO_PORT", help="Local AWS (moto) port.")
    ] = 4566,
) -> None:
    """Start everything and serve until Ctrl-C. Delete the data dir to start from scratch."""
    from mds.local.runner import Options, run

    code = run(Options(data_dir=data_dir, port=port, cdn_port=cdn_port, moto_port=moto_port), out=_say)
    raise typer.Exit(code)


def _say(line: str) -> None:
    print(line, flush=True)
