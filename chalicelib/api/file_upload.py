"""The upload host of ``GetMcubeFileToken`` tokens: an OSS PostObject-style form POST (spec §7).

``POST /mcube-files`` with ``multipart/form-data`` fields ``key``, ``OSSAccessKeyId`` (or
``AWSAccessKeyId``), ``policy``, ``Signature`` (or ``signature``), optional ``success_action_status``,
and ``file`` last. Answers 204 (or 200/201 when ``success_action_status`` asks) on success, and a
JSON ``{"Code", "Message"}`` with 400/403 otherwise. The stored file's URL is ``Host + "/" + key``.

The body is parsed in place: field offsets are found with ``bytes.find`` and the file goes to S3 as a
``memoryview`` of the request body, so a large file is never held twice (services.file_tokens,
store.mcube_files). Deployment limits (API Gateway's 10 MB payload cap) are in docs/openapi.md.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.errors import unexpected
from chalicelib.domain.errors import MdsError, ValidationError
from chalicelib.logs import log, request_id_var

file_upload = Blueprint(__name__)

_JSON = "application/json;charset=utf-8"
_MAX_FIELD = 64 * 1024  # every field but the file is a short text


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], memoryview | None, str]:
    """``(text fields, file bytes as a view into body, file name)`` of a multipart/form-data body.

    Raises:
        ValidationError: naming ``body`` (or the field) when the form is malformed.
    """
    boundary = _boundary(content_type)
    delimiter = b"--" + boundary
    view = memoryview(body)
    fields: dict[str, str] = {}
    file_part: memoryview | None = None
    filename = ""
    pos = body.find(delimiter)
    if pos < 0:
        raise ValidationError("body", "is not a multipart/form-data body with the declared boundary")
    while True:
        pos += len(delimiter)
        if body[pos : pos + 2] == b"--":
            break  # closing delimiter
        if body[pos : pos + 2] != b"\r\n":
            raise ValidationError("body", "malformed multipart delimiter line")
        header_end = body.find(b"\r\n\r\n", pos + 2, pos + 2 + _MAX_FIELD)
        if header_end < 0:
            raise ValidationError("body", "a multipart part has no header end")
        headers = bytes(view[pos + 2 : header_end]).decode("utf-8", errors="replace")
        name, part_filename = _disposition(headers)
        start = header_end + 4
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise ValidationError("body", "a multipart part is not terminated")
        if name == "file":
            file_part, filename = view[start:end], part_filename or ""
        elif name:
            if end - start > _MAX_FIELD:
                raise ValidationError(name, f"must be at most {_MAX_FIELD} bytes")
            fields[name] = bytes(view[start:end]).decode("utf-8", errors="strict")
        pos = end + 2
    return fields, file_part, filename


def _boundary(content_type: str) -> bytes:
    for piece in content_type.split(";")[1:]:
        name, _, value = piece.strip().partition("=")
        if name.lower() == "boundary" and value:
            value = value.strip('"')
            if 1 <= len(value) <= 200:
                return value.encode("latin-1")
    raise ValidationError("Content-Type", "must be multipart/form-data with a boundary")


def _disposition(headers: str) -> tuple[str, str | None]:
    for line in headers.split("\r\n"):
        head, _, value = line.partition(":")
        if head.strip().lower() != "content-disposition":
            continue
        name = filename = None
        for piece in value.split(";")[1:]:
            key, _, raw = piece.strip().partition("=")
            raw = raw.strip()
            if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                raw = raw[1:-1]
            if key.lower() == "name":
                name = raw
            elif key.lower() == "filename":
                filename = raw
        return name or "", filename
    return "", None


def _reply(status: int, body: Any = "", request_id: str = "") -> Response:
    headers = {"x-mds-request-id": request_id}
    if body != "":
        headers["Content-Type"] = _JSON
    return Response(body=body, status_code=status, headers=headers)


@file_upload.route("/mcube-files", methods=["POST"], content_types=["multipart/form-data"])
def upload() -> Response:
    """Store one file under a token's ``Dir`` (see module docstring)."""
    from datetime import UTC, datetime

    from chalicelib.services import file_tokens

    request = file_upload.current_request
    request_id = str(uuid.uuid4()).upper()
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    size = 0
    try:
        content_type = request.headers.get("content-type", "")
        fields, data, filename = parse_multipart(request.raw_body or b"", content_type)
        if filename:
            fields.setdefault("filename", filename)
        grant = file_tokens.verify(fields, now=datetime.now(UTC))
        if data is None:
            raise ValidationError("file", "is required (the last form field)")
        size = file_tokens.store(grant, data)
        wanted = fields.get("success_action_status", "")
        response = _reply(int(wanted), {"Key": grant.key}, request_id) if wanted in ("200", "201") else None
        response = response or _reply(204, "", request_id)
    except MdsError as exc:
        response = _reply(
            exc.STATUS_CODE, {"Code": exc.CODE, "Message": exc.message, "RequestId": request_id}
        )
    except Exception as exc:  # noqa: BLE001 - boundary
        err = unexpected(exc)
        response = _reply(500, {"Code": err.CODE, "Message": err.message, "RequestId": request_id})
    log(
        logging.INFO,
        "file upload",
        status=response.status_code,
        bytes=size,
        durationMs=round((time.perf_counter() - started) * 1000, 1),
    )
    request_id_var.reset(token)
    return response
