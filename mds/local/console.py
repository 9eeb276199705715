"""The web console's static files, served by the local API server under ``/console/``.

Same origin as the API, so the browser needs no CORS for the console REST calls (on AWS the console
comes from its own S3 bucket behind CloudFront and the API answers CORS; ``console/config.js`` holds
the API base there). Everything else goes to Chalice exactly as before.
"""

from __future__ import annotations

import functools
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from chalice.local import ChaliceRequestHandler

CONSOLE_DIR = Path(__file__).resolve().parents[2] / "console"
PREFIX = "/console"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


def console_file(url_path: str, root: Path = CONSOLE_DIR) -> Path | None:
    """The file a ``/console/...`` path names, or None (outside the console dir, missing, a folder
    without index.html). ``/console`` and ``/console/`` are index.html."""
    path = unquote(urlsplit(url_path).path)
    if path != PREFIX and not path.startswith(PREFIX + "/"):
        return None
    relative = path[len(PREFIX) :].lstrip("/") or "index.html"
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):  # ../ traversal
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


class ConsoleRequestHandler(ChaliceRequestHandler):
    """Chalice's local handler, plus GET/HEAD of the console's files (and ``/`` → ``/console/``)."""

    def _console(self, *, head: bool) -> bool:
        if urlsplit(self.path).path == "/":
            self.send_response(302)
            self.send_header("Location", PREFIX + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        target = console_file(self.path)
        if target is None:
            if self.path.startswith(PREFIX):
                body = b"not found"
                self.send_response(404)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)
                return True
            return False
        body = target.read_bytes()
        content_type = (
            _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")  # a local stack: edits show on reload
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if not head:
            self.wfile.write(body)
        return True

    def do_GET(self) -> None:
        if not self._console(head=False):
            self._generic_handle()

    def do_HEAD(self) -> None:
        if not self._console(head=True):
            self._generic_handle()


def serve_console(server: Any, app: Any, config: Any) -> None:
    """Make a Chalice ``LocalDevServer`` also serve the console."""
    server.server.RequestHandlerClass = functools.partial(
        ConsoleRequestHandler, app_object=app, config=config
    )
