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
from chalice.app import HeadersType

from chalicelib.api.errors import unexpected
from chalicelib.domain.errors import MdsError, ValidationError
from chalicelib.domain.multipart import parse_multipart
from chalicelib.logs import log, request_id_var

file_upload = Blueprint(__name__)

_JSON = "application/json;charset=utf-8"
def _reply(status: int, body: Any = "", request_id: str = "") -> Response:
    headers: HeadersType = {"x-mds-request-id": request_id}
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
        # chalice types raw_body str | bytes, but it encodes a str body: always bytes
        body = request.raw_body or b""
        fields, data, filename = parse_multipart(body, content_type)  # type: ignore[arg-type]
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
