"""A streaming upload host for GetMcubeFileToken tokens: the same form, policy and storage as the
Lambda route ``POST /mcube-files`` (chalicelib/api/file_upload.py), without any body-size ceiling.

Lambda (6 MB) and API Gateway (10 MB) cap what the Lambda route can take on AWS; this server reads the
multipart body from the socket in 1 MiB pieces, checks the token's policy and signature from the fields
that precede ``file`` *before* reading the file, and streams the file into S3 one 16 MiB part at a time
(``store.mcube_files.StreamingPut``). Memory stays at about one part per upload, whatever the size.

Run it where a long-lived process can run (a container on App Runner / ECS, or a VM) with the same
environment as the Lambda functions (``MDS_STACK``, ``MDS_ARTIFACTS_BUCKET``, ``MDS_KMS_KEY_ID`` …) and
point tokens at it with ``MDS_FILE_UPLOAD_HOST`` (docs/openapi.md)::

    python -m mds.upload_host --host 0.0.0.0 --port 8080

Answers as the Lambda route does: 204 (or 200/201 per ``success_action_status``), JSON
``{"Code", "Message"}`` with 400/403/411/413 otherwise. Any path is accepted (``Host`` may carry one).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

from chalicelib.domain.multipart import MAX_FIELD as _MAX_FIELD

_READ = 1024 * 1024
_MAX_HEADERS = 16 * 1024


class FormError(Exception):
    """The body is not the multipart form it claims to be."""


class _Body:
    """The request body as a byte stream of known length, with a look-ahead buffer."""

    def __init__(self, stream: IO[bytes], length: int) -> None:
        self._stream, self._left = stream, length
        self._buffer = bytearray()

    def _fill(self) -> bool:
        if self._left <= 0:
            return False
        chunk = self._stream.read(min(_READ, self._left))
        if not chunk:
            raise FormError("the body ended before its Content-Length")
        self._left -= len(chunk)
        self._buffer += chunk
        return True

    def read_until(self, delimiter: bytes, limit: int) -> bytes:
        """Bytes before ``delimiter`` (consumed), at most ``limit`` of them."""
        while True:
            at = self._buffer.find(delimiter)
            if at >= 0:
                data = bytes(self._buffer[:at])
                del self._buffer[: at + len(delimiter)]
                return data
            if len(self._buffer) > limit + len(delimiter):
                raise FormError(f"a form field is longer than {limit} bytes")
            if not self._fill():
                raise FormError("the form is not terminated")

    def chunks_until(self, delimiter: bytes) -> Iterator[bytes]:
        """Everything before ``delimiter`` (consumed), in pieces; never splits a delimiter across pieces."""
        keep = len(delimiter) - 1
        while True:
            at = self._buffer.find(delimiter)
            if at >= 0:
                if at:
                    yield bytes(self._buffer[:at])
                del self._buffer[: at + len(delimiter)]
                return
            if len(self._buffer) > keep:
                cut = len(self._buffer) - keep
                yield bytes(self._buffer[:cut])
                del self._buffer[:cut]
            if not self._fill():
                raise FormError("the file part is not terminated")

    def take(self, count: int) -> bytes:
        while len(self._buffer) < count and self._fill():
            pass
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data


def receive(stream: IO[bytes], length: int, content_type: str, *, now: datetime) -> dict[str, Any]:
    """Read one upload form from ``stream``; returns ``{"key", "size", "status"}``.

    Raises:
        FormError: malformed body. MdsError (ValidationError, PolicyRefused): refused form.
    """
    from chalicelib.domain.errors import ValidationError
    from chalicelib.domain.multipart import boundary_of, disposition
    from chalicelib.services import file_tokens

    boundary = boundary_of(content_type)
    body = _Body(stream, length)
    body.read_until(b"--" + boundary + b"\r\n", _MAX_FIELD)  # preamble
    fields: dict[str, str] = {}
    delimiter = b"\r\n--" + boundary
    while True:
        headers = body.read_until(b"\r\n\r\n", _MAX_HEADERS).decode("utf-8", errors="replace")
        name, filename = disposition(headers)
        if name == "file":
            if filename:
                fields.setdefault("filename", filename)
            grant = file_tokens.verify(fields, now=now)  # before a single byte of the file is read
            writer = file_tokens.writer(grant)
            try:
                for chunk in body.chunks_until(delimiter):
                    writer.write(chunk)
                    if writer.size > grant.max_bytes:
                        raise ValidationError("file", f"must be 1 to {grant.max_bytes} bytes long")
                if writer.size < 1:
                    raise ValidationError("file", f"must be 1 to {grant.max_bytes} bytes long")
                size = writer.finish()
            except BaseException:
                writer.abort()
                raise
            return {"key": grant.key, "size": size, "status": fields.get("success_action_status", "")}
        value = body.read_until(delimiter, _MAX_FIELD)
        if name:
            fields[name] = value.decode("utf-8", errors="strict")
        if body.take(2) != b"\r\n":  # "--": the form ended without a file
            raise ValidationError("file", "is required (the last form field)")


class UploadHandler(BaseHTTPRequestHandler):
    server_version = "mds-upload-host"
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        from chalicelib.domain.errors import MdsError

        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._reply(411, {"Code": "MissingContentLength", "Message": "Content-Length is required"})
            return
        try:
            done = receive(
                self.rfile, int(length), self.headers.get("Content-Type", ""), now=datetime.now(UTC)
            )
        except FormError as exc:
            self._reply(400, {"Code": "InvalidParameter", "Message": f"body: {exc}"})
        except MdsError as exc:
            status = 413 if exc.field == "file" and "bytes long" in exc.message else exc.STATUS_CODE
            self._reply(status, {"Code": exc.CODE, "Message": exc.message})
        else:
            if done["status"] in ("200", "201"):
                self._reply(int(done["status"]), {"Key": done["key"]})
            else:
                self._reply(204, None)

    def _reply(self, status: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status >= 400:
            self.send_header("Connection", "close")  # the rest of a refused body is never read
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(host: str, port: int) -> ThreadingHTTPServer:
    """A started-on-demand server (call ``serve_forever``); tests run it in a thread."""
    server = ThreadingHTTPServer((host, port), UploadHandler)
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    server = serve(args.host, args.port)
    print(f"upload host on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()


if __name__ == "__main__":
    main()
