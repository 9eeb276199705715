"""The CDN emulator: serves the delivery bucket read-only, as CloudFront does on AWS.

``GET /a/b.json`` returns object ``a/b.json`` with its ``ETag``, ``Last-Modified`` and
``Content-Type``; ``Cache-Control`` is the object's own or ``public, max-age=60``. Conditional
requests (``If-None-Match``, ``If-Modified-Since``) answer 304, a single byte range answers 206
(416 when it cannot be satisfied). Like the distribution in the template, only GET and HEAD are
allowed (anything else is 405). Bodies are streamed from S3, never held whole in memory.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError

from mds.local.logs import log_event

DEFAULT_CACHE_CONTROL = "public, max-age=60"
_REPLACED_RETRIES = 5  # reads in a row that found the object replaced under them
_CHUNK = 64 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Length, Content-Range, Last-Modified",
}


class CdnServer:
    def __init__(
        self,
        s3: Any,
        bucket: str,
        *,
        host: str = "127.0.0.1",
        port: int = 8001,
        default_cache_control: str = DEFAULT_CACHE_CONTROL,
    ) -> None:
        handler = type(
            "Handler", (_CdnHandler,), {"s3": s3, "bucket": bucket, "cache_control": default_cache_control}
        )
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.host, self.port = host, self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="cdn", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """``(first, last)`` inclusive for one satisfiable range; ``None`` to ignore the header (absent,
    malformed or several ranges: RFC 9110 lets a server answer those with the whole object);
    ``"unsatisfiable"`` for a 416."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last n bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, end


def etag_matches(header: str, etag: str) -> bool:
    """Weak comparison, as ``If-None-Match`` requires."""
    if header.strip() == "*":
        return True
    strip = lambda tag: tag.strip().removeprefix("W/")  # noqa: E731
    return strip(etag) in {strip(tag) for tag in header.split(",")}


class _CdnHandler(BaseHTTPRequestHandler):
    # Headers and body go out in separate writes; without this, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    server_version = "mds-cdn"
    s3: Any
    bucket: str
    cache_control: str

    def do_GET(self) -> None:
        self._guarded(with_body=True)

    def do_HEAD(self) -> None:
        self._guarded(with_body=False)

    def _guarded(self, *, with_body: bool) -> None:
        try:
            self._serve(with_body=with_body)
        except Exception as err:  # noqa: BLE001 - one failed request, not a dead server
            log_event("cdn", "request_failed", level="error", path=self.path, error=repr(err))
            self.close_connection = True

    def _not_allowed(self) -> None:
        self.close_connection = True  # its body, if any, is left unread
        self._reply(HTTPStatus.METHOD_NOT_ALLOWED, {"Allow": "GET, HEAD", "Connection": "close"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, *, with_body: bool) -> None:
        key = unquote(urlsplit(self.path).path).lstrip("/")
        if not key or key.endswith("/"):
            self._reply(HTTPStatus.NOT_FOUND)
            return
        for _attempt in range(_REPLACED_RETRIES):
            if self._serve_once(key, with_body=with_body):
                return
        # replaced on every try: say so rather than mix two versions (CloudFront would retry too)
        self._reply(HTTPStatus.SERVICE_UNAVAILABLE, {"Retry-After": "1"})

    def _serve_once(self, key: str, *, with_body: bool) -> bool:
        """Answer from one version of the object; False if it was replaced between the metadata read and
        the body read (the headers would describe one object and the bytes another): try again."""
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as err:
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in (403, 404):
                self._reply(HTTPStatus.NOT_FOUND)
            else:
                log_event("cdn", "origin_failed", level="error", key=key, error=repr(err))
                self._reply(HTTPStatus.BAD_GATEWAY)
            return True
        size, etag = head["ContentLength"], head["ETag"]
        last_modified = head["LastModified"].astimezone(UTC)
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(last_modified, usegmt=True),
            "Cache-Control": head.get("CacheControl") or self.cache_control,
            "Content-Type": head.get("ContentType") or "application/octet-stream",
            "Accept-Ranges": "bytes",
        }
        if head.get("ContentEncoding"):
            headers["Content-Encoding"] = head["ContentEncoding"]
        if self._not_modified(etag, last_modified):
            self._reply(HTTPStatus.NOT_MODIFIED, headers)
            return True
        wanted = self._range(etag, size)
        if wanted == "unsatisfiable":
            self._reply(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, {"Content-Range": f"bytes */{size}"})
            return True
        if wanted is None:
            status, first, last = HTTPStatus.OK, 0, size - 1
        else:
            status, (first, last) = HTTPStatus.PARTIAL_CONTENT, wanted
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        length = max(0, last - first + 1)
        body = None
        if with_body and length:
            body = self._open(key, etag, first, last, partial=wanted is not None)
            if body is None:
                return False
        self._reply(status, {**headers, "Content-Length": str(length)}, has_body=True)
        if body is not None:
            self._stream(body)
        return True

    def _not_modified(self, etag: str, last_modified: Any) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag_matches(if_none_match, etag)
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
            except (TypeError, ValueError):
                return False
        return False

    def _range(self, etag: str, size: int) -> tuple[int, int] | None | str:
        if_range = self.headers.get("If-Range")
        if if_range and if_range.strip() != etag:
            return None  # the client's copy is stale: send it all
        return parse_range(self.headers.get("Range"), size)

    def _open(self, key: str, etag: str, first: int, last: int, *, partial: bool) -> Any:
        """The body of exactly the version ``etag`` names, or None when the object was replaced since."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "IfMatch": etag}
        if partial:
            request["Range"] = f"bytes={first}-{last}"
        try:
            return self.s3.get_object(**request)["Body"]
        except ClientError as err:
            if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") in (404, 412):
                return None  # replaced (or deleted) between the two reads
            raise

    def _stream(self, body: Any) -> None:
        try:
            for chunk in iter(lambda: body.read(_CHUNK), b""):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away
        finally:
            body.close()

    def _reply(
        self, status: HTTPStatus, headers: dict[str, str] | None = None, *, has_body: bool = False
    ) -> None:
        self.send_response(status)
        headers = {**_CORS, **(headers or {})}
        if not has_body and status != HTTPStatus.NOT_MODIFIED:
            headers.setdefault("Content-Length", "0")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
