"""The one wrapper every console route goes through.

``endpoint`` turns a Chalice request into a service call and back: request ID, authentication
(session token or AccessKey signature), tenant from the path, JSON body size/syntax/schema checks,
error mapping (``api.errors``) and one structured access-log line. Permission checks are not
here: each service checks the permission its use case needs (``services.audit.check``).
"""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api.errors import rest_error, unexpected
from chalicelib.config import settings
from chalicelib.domain.access import Principal
from chalicelib.domain.errors import AuthenticationError, MdsError, PayloadTooLarge, ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.logs import log, request_id_var
from chalicelib.services.context import Call

_JSON = "application/json;charset=utf-8"


@dataclass(frozen=True)
class ApiRequest:
    call: Call | None  # None on public routes
    tenant_id: TenantId | None  # None on routes without {appId}/{workspaceId} in the path
    body: Any
    query: dict[str, str] = field(default_factory=dict)
    source_ip: str | None = None

    @property
    def caller(self) -> Call:
        """The authenticated caller; a public route asking for one is our bug (500 InternalError)."""
        if self.call is None:
            raise MdsError("internal error: public routes have no caller")
        return self.call

    @property
    def tenant(self) -> TenantId:
        """The tenant from the path; a route without ``{appId}/{workspaceId}`` asking is our bug (500)."""
        if self.tenant_id is None:
            raise MdsError("internal error: this route has no {appId}/{workspaceId} in its path")
        return self.tenant_id

    def query_int(self, name: str, default: int) -> int:
        """A whole-number query parameter (``page``, ``pageSize``); absent or empty: ``default``."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        if not raw.isdigit():
            raise ValidationError(name, "must be a positive integer")
        return int(raw)


def endpoint(
    bp: Blueprint,
    path: str,
    *,
    methods: list[str],
    body: type | None = None,
    public: bool = False,
    status: int = 200,
) -> Callable:
    """Register ``fn(request: ApiRequest, **uri_params) -> JSON-able | Response`` as a route on ``bp``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def view(**uri_params: str) -> Response:
            request = bp.current_request
            request_id = _request_id(request)
            token = request_id_var.set(request_id)
            started = time.perf_counter()
            response = None
            try:
                source_ip = (request.context.get("identity") or {}).get("sourceIp")
                principal = None if public else _authenticate(request, request_id, source_ip)
                call = (
                    Call(principal=principal, request_id=request_id, source_ip=source_ip)
                    if principal
                    else None
                )
                tenant = None
                if "appId" in uri_params:
                    tenant = TenantId.parse(uri_params.pop("appId"), uri_params.pop("workspaceId"))
                parsed = _parse_body(request, body) if body is not None else None
                api_request = ApiRequest(
                    call=call,
                    tenant_id=tenant,
                    body=parsed,
                    query=dict(request.query_params or {}),
                    source_ip=source_ip,
                )
                result = fn(api_request, **uri_params)
                if isinstance(result, Response):  # a route that answers other than JSON (redirects, HTML)
                    response = result
                    response.headers = {"x-mds-request-id": request_id, **(response.headers or {})}
                else:
                    response = Response(
                        body=result if result is not None else "",
                        status_code=status if result is not None else 204,
                        headers={
                            "Content-Type": _JSON,
                            "x-mds-request-id": request_id,
                            "Cache-Control": "no-store",
                        },
                    )
            except MdsError as exc:
                response = rest_error(exc, request_id)
            except Exception as exc:  # noqa: BLE001 - the boundary: log it, answer 500 with the request ID
                response = rest_error(unexpected(exc), request_id)
            finally:
                log(
                    logging.INFO,
                    "request",
                    method=request.method,
                    path=path,
                    status=response.status_code if response is not None else 500,
                    durationMs=round((time.perf_counter() - started) * 1000, 1),
                )
                request_id_var.reset(token)
            return response

        content_types = ["application/json"] if body is not None else None
        kwargs: dict[str, Any] = {"methods": methods, "cors": True}
        if content_types:
            kwargs["content_types"] = content_types
        bp.route(path, **kwargs)(view)
        return fn

    return register


def _request_id(request: Any) -> str:
    return str((request.context or {}).get("requestId") or uuid.uuid4())


def _authenticate(request: Any, request_id: str, source_ip: str | None) -> Principal:
    from chalicelib.services import auth

    header = request.headers.get("authorization", "")
    if header.startswith("Bearer "):
        return auth.principal_from_token(header[len("Bearer ") :].strip())
    if header.startswith("ACS3-"):
        from chalicelib.security.acs_signature import SignedRequest

        signed = SignedRequest(
            method=request.method,
            path=unquote(request.context.get("path") or "/"),
            query=dict(request.query_params or {}),
            headers=dict(request.headers),
            body=request.raw_body or b"",
        )
        return auth.principal_from_signature(signed, request_id=request_id, source_ip=source_ip)
    raise AuthenticationError(
        "missing credentials: send 'Authorization: Bearer <token>' or an AccessKey signature"
    )


def _parse_body(request: Any, model: type) -> Any:
    raw = request.raw_body or b""
    limit = settings().max_body_bytes
    if len(raw) > limit:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {limit}", field="body")
    try:
        data = json.loads(raw or b"null")
    except ValueError as exc:
        raise ValidationError("body", f"must be valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValidationError("body", "must be a JSON object")
    if model is dict:  # the domain validates this body itself (e.g. device events)
        return data
    from chalicelib.api.schemas import validate

    return validate(model, data)
