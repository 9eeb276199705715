"""moto, served in-process on 127.0.0.1, its state kept in a journal across restarts.

moto has no persistence. Its recorder journals every request, reads and SQS polls included, so
an idle stack would grow its journal forever. Here a WSGI middleware in front of moto's app
journals only the requests that change state (``mutations.classify``), after they succeed and
before the client gets the answer. On start the journal is replayed in-process (no HTTP), then
the server starts accepting requests and appending.

Why a middleware rather than moto's ``recorder._record_request`` hook: the hook runs before the
request and has no "after", but two things need one:
- each journaled request runs under one lock with its own random seed (``determinism``), so
  journal order is execution order and replayed IDs come out the same;
- an SQS DeleteMessage names a receipt handle, which only exists because of a ReceiveMessage,
  a read we do not journal. The delete is journaled by the message IDs it removed instead, and
  replayed by removing those messages, so a handled event does not come back after a restart.
"""

from __future__ import annotations

import base64
import io
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from mds.local import determinism, moto_speedups
from mds.local.journal import Journal
from mds.local.mutations import Kind, classify, signing_region, sqs_delete_request

JOURNAL_NAME = "aws-journal.jsonl"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_RECORDED_ENVIRON = (
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "RAW_URI", "REQUEST_URI",
    "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_PROTOCOL", PRESERVED_HEADER_NAMES_ENVIRON_KEY,
)  # fmt: skip


@dataclass(frozen=True)
class ReplayStats:
    entries: int
    seconds: float
    failed: int  # entries that did not succeed again (should be 0)


class LocalMoto:
    """``start()`` replays ``<data_dir>/aws-journal.jsonl`` and serves; ``stop()`` flushes it."""

    def __init__(self, data_dir: Path | str, *, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.host, self.port = host, port
        self.journal = Journal(Path(data_dir) / JOURNAL_NAME)
        self._app: Any = None
        self._journaling: JournalingApp | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ReplayStats:
        """moto's state is process-global: it is reset, then rebuilt from the journal.

        The port is bound first (port 0 picks a free one, read back into ``port``), so nobody can
        take it during the replay; requests wait in the backlog until the replay is done."""
        from moto.moto_api._internal.models import moto_api_backend

        self._server = make_server(
            self.host, self.port, self._serve, threaded=True, request_handler=_QuietRequestHandler
        )
        self.port = self._server.server_port
        try:
            determinism.install()
            moto_speedups.install()
            moto_api_backend.reset()
            self._app = DomainDispatcherApplication(create_backend_app)
            stats = replay(self.journal, self._app, self.host, self.port)
            self.journal.open_for_append()
            self._journaling = JournalingApp(self._app, self.journal, first_seq=stats.entries)
        except BaseException:
            self.stop()
            raise
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        return stats

    def _serve(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        assert self._journaling is not None  # the thread serving requests starts after the replay
        return self._journaling(environ, start_response)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._journaling is not None:
            self._journaling.close()
            self._journaling = None


class JournalingApp:
    """WSGI middleware: passes reads straight through, serialises and journals writes."""

    def __init__(self, app: WsgiApp, journal: Journal, *, first_seq: int = 0, region: str = "us-east-1"):
        self.app, self.journal, self.region = app, journal, region
        self._lock = threading.Lock()
        self._seq = first_seq

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _buffer_body(environ)
        headers = _headers(environ)
        kind = classify(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
            headers, body,
        ).kind  # fmt: skip
        if kind is Kind.READ:
            return self.app(environ, start_response)
        seed = int.from_bytes(os.urandom(8), "big")
        with self._lock:
            removed = self._messages_to_delete(environ, headers, body) if kind is Kind.SQS_DELETE else None
            with determinism.seeded(seed):
                status, response_headers, chunks = _call(self.app, environ)
            if int(status.split(" ", 1)[0]) < 400:
                entry = (
                    _sqs_delete_entry(removed) if removed is not None else _request_entry(environ, body, seed)
                )
                if entry is not None:
                    self._seq += 1
                    self.journal.append({"seq": self._seq, "t": round(time.time(), 3), **entry})
        start_response(status, response_headers)
        return chunks

    def close(self) -> None:
        with self._lock:  # waits for a write in flight to be journaled
            self.journal.close()

    def _messages_to_delete(
        self, environ: dict[str, Any], headers: dict[str, str], body: bytes
    ) -> dict[str, Any]:
        from moto.sqs.models import sqs_backends

        request = sqs_delete_request(environ.get("QUERY_STRING", ""), headers, body)
        path = urlparse(request.queue_url).path if request.queue_url else environ.get("PATH_INFO", "")
        account, _, queue_name = path.strip("/").rpartition("/")
        region = signing_region(headers, self.region)
        queue = sqs_backends[account][region].queues.get(queue_name) if account else None
        handles = set(request.receipt_handles)
        ids = [
            m.id for m in (queue._messages if queue else []) if handles.intersection(m.all_receipt_handles)
        ]
        return {"account": account, "region": region, "queue": queue_name, "message_ids": ids}


def replay(journal: Journal, app: WsgiApp, host: str, port: int) -> ReplayStats:
    """Re-executes every journal entry against ``app`` in-process, each with its recorded seed."""
    started, count, failed = time.perf_counter(), 0, 0
    for entry in journal.entries():
        count += 1
        if "sqs_delete" in entry:
            _remove_messages(**entry["sqs_delete"])
            continue
        environ = _replay_environ(entry, host, port)
        with determinism.seeded(entry["seed"]):
            status, _, _ = _call(app, environ)
        if int(status.split(" ", 1)[0]) >= 400:
            failed += 1
    return ReplayStats(count, time.perf_counter() - started, failed)


# --- journal entries ---------------------------------------------------------------------------


def _request_entry(environ: dict[str, Any], body: bytes, seed: int) -> dict[str, Any]:
    recorded = {k: environ[k] for k in _RECORDED_ENVIRON if k in environ}
    recorded.update(
        {k: v for k, v in environ.items() if k.startswith("HTTP_") and k != "HTTP_TRANSFER_ENCODING"}
    )
    recorded["CONTENT_LENGTH"] = str(len(body))
    try:
        encoded = {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        encoded = {"body_b64": base64.b64encode(body).decode("ascii")}
    return {"seed": seed, "environ": recorded, **encoded}


def _sqs_delete_entry(removed: dict[str, Any]) -> dict[str, Any] | None:
    return {"sqs_delete": removed} if removed["message_ids"] else None


def _replay_environ(entry: dict[str, Any], host: str, port: int) -> dict[str, Any]:
    body = entry["body"].encode("utf-8") if "body" in entry else base64.b64decode(entry["body_b64"])
    return {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "REMOTE_ADDR": "127.0.0.1",
        **entry["environ"],
    }


def _remove_messages(account: str, region: str, queue: str, message_ids: list[str]) -> None:
    from moto.sqs.models import sqs_backends

    target = sqs_backends[account][region].queues.get(queue)
    if target is None:
        return
    gone = set(message_ids)
    for message in [m for m in target._messages if m.id in gone]:
        target.pending_messages.discard(message)
    target._messages = [m for m in target._messages if m.id not in gone]


# --- WSGI plumbing -----------------------------------------------------------------------------


def _buffer_body(environ: dict[str, Any]) -> bytes:
    """Reads the request body once and puts it back for moto."""
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = environ["wsgi.input"].read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = environ["wsgi.input"].read()  # chunked: werkzeug has already de-chunked it
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return headers


def _call(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """Runs a WSGI app to completion, so the outcome is known before anything is sent."""
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[..., Any]:
        captured["status"], captured["headers"] = status, headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], captured["headers"], chunks


class _QuietRequestHandler(MotoRequestHandler):
    """The worker polls SQS every second; one access-log line per poll would drown the output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass
