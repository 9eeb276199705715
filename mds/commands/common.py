"""What every API command shares: options, the client, and printing results or errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from mds.client import ApiError, MdsClient, Session

out = Console(soft_wrap=True)  # a result line stays one line, for people and for scripts alike
err = Console(stderr=True, soft_wrap=True)  # an error is one line, whatever the terminal's width

AppOpt = Annotated[
    str | None, typer.Option("--app", help="appId (default: MDS_APP_ID or your login's workspace)")
]
WorkspaceOpt = Annotated[
    str | None, typer.Option("--workspace", help="workspaceId (default: MDS_WORKSPACE_ID or login's)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the raw JSON response")]


def client() -> MdsClient:
    return MdsClient(Session.load())


def api_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn API errors into one readable line on stderr and exit status 1."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            err.print(f"[red]error[/red] {exc}")
            raise typer.Exit(1) from None
        except httpx.TransportError as exc:
            err.print(f"[red]error[/red] cannot reach the MDS API: {exc}")
            raise typer.Exit(1) from None

    return run


def show(
    data: Any, *, as_json: bool, columns: Iterable[str] = (), rows: list[dict] | None = None, title: str = ""
) -> None:
    console = Console()  # created per call: picks up the terminal width (COLUMNS) of this run
    if as_json or rows is None:
        console.print_json(json.dumps(data))
        return
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)


def list_and_show(
    path: str,
    *,
    app_id: str | None,
    workspace_id: str | None,
    as_json: bool,
    columns: Iterable[str],
    rows: str | Callable[[Any], list[dict]],
    query: dict[str, Any] | None = None,
) -> None:
    """GET a workspace list (``path`` below the workspace) and print it: a table of ``columns`` over
    ``rows`` (the key holding the list, or a function of the response), or the raw JSON (``--json``)."""
    api = client()
    data = api.request("GET", api.workspace_path(app_id, workspace_id, path), query=query)
    show(data, as_json=as_json, columns=columns, rows=data[rows] if isinstance(rows, str) else rows(data))


def compact(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body without the options that were not given (None)."""
    return {k: v for k, v in body.items() if v is not None}


def json_rules(values: list[str] | None, *, option: str = "--rule", field: str = "rules") -> list[Any] | None:
    """Repeated JSON options (``--rule '{...}'``) as a list; None when none were given."""
    try:
        parsed = [json.loads(v) for v in values or []]
    except ValueError as exc:
        raise ApiError(400, "InvalidParameter", f"{option} is not JSON: {exc}", field, None) from None
    return parsed or None


def wait_for_upload(
    api: MdsClient, path: str, *, wait: float, label: str = "Processing…", every: float = 0.5
) -> dict[str, Any]:
    """Poll the upload at ``path`` (``.../uploads/{id}``) until it is processed or failed, or ``wait``
    seconds have passed; returns its last state."""
    deadline = time.monotonic() + wait
    with out.status(label):
        while True:
            upload = api.request("GET", path)
            if upload["status"] in ("processed", "failed") or time.monotonic() > deadline:
                return upload
            time.sleep(every)


def status_commands(
    app: typer.Typer, *, path: str, noun: str, metavar: str, helps: Mapping[str, str]
) -> None:
    """Add the ``pause`` / ``resume`` / ``end`` commands of a release task to ``app``: each POSTs
    ``{"action": ...}`` to ``path`` (a workspace path with ``{id}``) and prints
    ``<noun> <id> is <status>.``"""

    def make(action: str) -> Callable[..., None]:
        @api_command
        def command(
            item_id: str,
            app_id: AppOpt = None,
            workspace_id: WorkspaceOpt = None,
        ) -> None:
            api = client()
            changed = api.request(
                "POST",
                api.workspace_path(app_id, workspace_id, path.format(id=item_id)),
                body={"action": action},
            )
            out.print(f"{noun} {item_id} is {changed['status']}.")

        # a real object, not a string: the metavar is this call's (``from __future__`` would defer it)
        command.__annotations__["item_id"] = Annotated[str, typer.Argument(metavar=metavar)]
        command.__doc__ = helps[action]
        command.__name__ = action
        return command

    for action in ("pause", "resume", "end"):
        app.command(action)(make(action))


def upload_file(post: dict[str, Any], file: Path) -> None:
    """POST ``file`` to S3 with a presigned policy (``{"url", "fields"}``), showing progress."""
    size = file.stat().st_size
    columns = (TextColumn("[bold]upload"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=out) as progress, file.open("rb") as raw:
        task = progress.add_task("upload", total=size)
        reader = _Counting(raw, lambda n: progress.advance(task, n))
        resp = httpx.post(post["url"], data=post["fields"], files={"file": (file.name, reader)}, timeout=600)
    if resp.status_code >= 300:
        raise ApiError(resp.status_code, "UploadRefused", resp.text[:300], "file", None)


class _Counting:
    """A file wrapper that reports how many bytes the HTTP client has read so far."""

    def __init__(self, raw: BinaryIO, advance: Any) -> None:
        self._raw, self._advance = raw, advance

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._advance(len(chunk))
        return chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)
