"""A throwaway HTTP server that records exactly what a client sends.

Used to capture real requests from the official Alibaba Cloud SDKs (Tea ``alibabacloud_mpaas20201028``
and legacy ``aliyunsdkcore``) so tests can check our verifier against the real wire format instead of
against our own reading of the spec.

    with capture_server() as cap:
        client = Client(Config(..., endpoint=cap.endpoint, protocol="http"))
        client.list_mcube_nebula_apps(...)
    req = cap.requests[0]
    req.method, req.path, req.query, req.header("x-acs-date"), req.body

``capture_server(respond=...)`` takes an optional callable ``CapturedRequest -> (status, headers, body)``
to answer something other than the default mPaaS success envelope (e.g. a 400 error body).

Proxy environment variables are not touched here; SDKs honour ``HTTP_PROXY``, so tests should clear
them (see ``no_proxy_env`` below).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

DEFAULT_RESPONSE_BODY = {
    "RequestId": "00000000-0000-0000-0000-000000000000",
    "ResultCode": "OK",
    "ResultMessage": "",
    "ListMcubeNebulaAppsResult": {"Success": True, "ResultMsg": ""},
}

Response = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class CapturedRequest:
    """One request exactly as received (header names keep the client's casing and order)."""

    method: str
    target: str  # the raw request-target, e.g. "/?Action=X&Signature=..."
    raw_headers: tuple[tuple[str, str], ...]
    body: bytes
    http_version: str = "HTTP/1.1"

    @property
    def path(self) -> str:
        """Percent-decoded path (what a web framework hands to the app)."""
        return unquote(urlsplit(self.target).path) or "/"

    @property
    def raw_path(self) -> str:
        return urlsplit(self.target).path

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    @property
    def query_pairs(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    @property
    def query(self) -> dict[str, str]:
        """Decoded query, last value wins (``+`` decodes to space, like API Gateway/Chalice)."""
        return dict(self.query_pairs)

    @property
    def headers(self) -> dict[str, str]:
        """Lower-case header names; repeated headers joined with ``,``."""
        out: dict[str, str] = {}
        for name, value in self.raw_headers:
            key = name.lower()
            out[key] = f"{out[key]},{value}" if key in out else value
        return out

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Capture:
    endpoint: str  # "127.0.0.1:<port>" — bare host:port as the SDK endpoint setting wants it
    port: int
    requests: list[CapturedRequest] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def last(self) -> CapturedRequest:
        return self.requests[-1]


def default_respond(_request: CapturedRequest) -> Response:
    body = json.dumps(DEFAULT_RESPONSE_BODY).encode()
    return 200, {"Content-Type": "application/json;charset=utf-8"}, body


def _make_handler(capture: Capture, respond: Callable[[CapturedRequest], Response], lock: threading.Lock):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _handle(self) -> None:
            req = CapturedRequest(
                method=self.command,
                target=self.path,
                raw_headers=tuple(self.headers.items()),
                body=self._read_body(),
                http_version=self.request_version,
            )
            with lock:
                capture.requests.append(req)
            status, headers, body = respond(req)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    return Handler


@contextlib.contextmanager
def capture_server(respond: Callable[[CapturedRequest], Response] | None = None) -> Iterator[Capture]:
    """Run a recording HTTP server on 127.0.0.1 (random port) for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    capture = Capture(endpoint=f"127.0.0.1:{port}", port=port)
    server.RequestHandlerClass = _make_handler(capture, respond or default_respond, threading.Lock())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="sdk-capture", daemon=True)
    thread.start()
    try:
        yield capture
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@contextlib.contextmanager
def no_proxy_env() -> Iterator[None]:
    """Make sure SDK HTTP clients talk to 127.0.0.1 directly (they honour *_PROXY variables)."""
    saved = {k: os.environ.get(k) for k in (*PROXY_VARS, "NO_PROXY", "no_proxy")}
    try:
        for k in PROXY_VARS:
            os.environ.pop(k, None)
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
