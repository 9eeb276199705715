"""The mPaaS OpenAPI: RPC-style ``POST /``, AccessKey-signed, as Alibaba Cloud's official SDKs call it.

Wire format: ../shared/spec/mpaas-openapi-wire.md. Product modules register their actions with
``@openapi_actions.action("CreateMcubeNebulaApp", result_key=..., permission=...)``; this module
authenticates, dispatches, and wraps results in the envelope the SDK models read.

Failures split in two, as the SDKs expect (§5): protocol and auth failures are HTTP 4xx/5xx with
``{"Code", "Message", ...}``; business failures (bad parameter, not found, duplicate) are HTTP 200
with ``ResultCode`` != ``OK`` and ``Success: false`` inside the result object.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from chalice import Blueprint, Response

from chalicelib.api import (  # noqa: F401 - importing a product module registers its actions
    openapi_h5,
    openapi_hotpatch,
    openapi_upgrade,
    openapi_whitelists,
)
from chalicelib.api.errors import rpc_error, unexpected
from chalicelib.api.openapi_actions import ACTIONS
from chalicelib.api.openapi_params import WIRE_ZONE, WireZone
from chalicelib.domain.errors import (
    Conflict,
    MdsError,
    MissingParameter,
    NotFound,
    PayloadTooLarge,
    UnknownAction,
    UnsupportedVersion,
    ValidationError,
)
from chalicelib.domain.tenancy import TenantId
from chalicelib.logs import log, request_id_var
from chalicelib.services.context import Call

API_VERSION = "2020-10-28"
_JSON = "application/json;charset=utf-8"
_BUSINESS_ERRORS = (ValidationError, NotFound, Conflict)

openapi = Blueprint(__name__)


@openapi.route("/", methods=["POST"], content_types=["application/x-www-form-urlencoded", "application/json"])
def rpc() -> Response:
    request = openapi.current_request
    request_id = str(uuid.uuid4()).upper()
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    host = request.headers.get("host", "")
    query: Mapping[str, str] = request.query_params or {}
    action_name = request.headers.get("x-acs-action") or query.get("Action", "")
    try:
        response = _dispatch(request, request_id, action_name)
    except MdsError as exc:
        response = rpc_error(exc, request_id, host)
    except Exception as exc:  # noqa: BLE001 - boundary
        response = rpc_error(unexpected(exc), request_id, host)
    log(
        logging.INFO,
        "rpc",
        action=action_name,
        status=response.status_code,
        durationMs=round((time.perf_counter() - started) * 1000, 1),
    )
    request_id_var.reset(token)
    return response


def _dispatch(request: Any, request_id: str, action_name: str) -> Response:
    from chalicelib.config import settings
    from chalicelib.security.acs_signature import SignedRequest
    from chalicelib.services import audit, auth

    raw = request.raw_body or b""
    if len(raw) > settings().max_body_bytes:
        raise PayloadTooLarge("request body too large", field="body")
    source_ip = (request.context.get("identity") or {}).get("sourceIp")
    signed = SignedRequest(
        method=request.method,
        path=unquote(request.context.get("path") or "/"),
        query=dict(request.query_params or {}),
        headers=dict(request.headers),
        body=raw,
    )
    principal = auth.principal_from_signature(signed, request_id=request_id, source_ip=source_ip)
    version = request.headers.get("x-acs-version") or (request.query_params or {}).get("Version", "")
    if version != API_VERSION:
        raise UnsupportedVersion("Version", f"must be {API_VERSION}")
    found = ACTIONS.get(action_name)
    if found is None:
        raise UnknownAction(f"the action {action_name or '(none)'} is not supported")

    params = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    call = Call(principal=principal, request_id=request_id, source_ip=source_ip)
    zone, token = None, None
    try:
        tenant = _tenant(params)
        zone = WireZone(tenant)
        token = WIRE_ZONE.set(zone)
        audit.check(call, tenant, found.permission, action=f"openapi.{found.name}")
        fields = found.handler(call, tenant, params)
        result = found.result({"Success": True, "ResultMsg": ""}, fields)
        code, message = "OK", ""
    except _BUSINESS_ERRORS as exc:
        result = found.result({"Success": False, "ResultMsg": exc.message, "ErrorCode": exc.CODE}, {})
        code, message = exc.CODE, exc.message
    finally:
        if token is not None:
            WIRE_ZONE.reset(token)
    named = zone.name if zone is not None and zone.used else None
    return _envelope(request_id, found.result_key, result, code=code, message=message, zone=named)


def _tenant(params: dict[str, str]) -> TenantId:
    for name in ("AppId", "WorkspaceId"):
        if not params.get(name):
            raise MissingParameter(name)
    return TenantId.parse(params["AppId"], params["WorkspaceId"])


def _envelope(
    request_id: str,
    result_key: str,
    result: dict[str, Any],
    *,
    code: str = "OK",
    message: str = "",
    zone: str | None = None,
) -> Response:
    """``TimeZone`` (an extra key the SDK models ignore) names the zone of the answer's wire times, when
    the action read or wrote any."""
    body = {"RequestId": request_id, "ResultCode": code, "ResultMessage": message, result_key: result}
    if zone is not None:
        body["TimeZone"] = zone
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": _JSON, "x-acs-request-id": request_id},
    )
