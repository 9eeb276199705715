"""The one place where errors become HTTP responses: REST JSON and mPaaS RPC shapes."""

from __future__ import annotations

import logging

from chalice import Response
from chalice.app import HeadersType

from chalicelib.domain.errors import MdsError, RateLimited
from chalicelib.logs import log

_JSON = "application/json;charset=utf-8"


def rest_error(error: MdsError, request_id: str) -> Response:
    """``{"code", "message", "field", "requestId"}`` with the error's HTTP status."""
    headers: HeadersType = {
        "Content-Type": _JSON,
        "x-mds-request-id": request_id,
        "Cache-Control": "no-store",
    }
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    return Response(
        body={"code": error.CODE, "message": error.message, "field": error.field, "requestId": request_id},
        status_code=error.STATUS_CODE,
        headers=headers,
    )


def rpc_error(error: MdsError, request_id: str, host: str) -> Response:
    """The Alibaba Cloud error body the official SDKs parse (spec/mpaas-openapi-wire.md §5.2)."""
    headers: HeadersType = {"Content-Type": _JSON, "x-acs-request-id": request_id}
    if isinstance(error, RateLimited):
        headers["x-acs-retry-after"] = str(error.retry_after)
    return Response(
        body={
            "RequestId": request_id,
            "Code": error.CODE,
            "Message": error.message,
            "HostId": host,
            "Recommend": "",
        },
        status_code=error.rpc_status,
        headers=headers,
    )


def unexpected(exc: BaseException) -> MdsError:
    """Anything that is not an MdsError is our bug: log it whole, tell the caller only the request ID."""
    log(logging.ERROR, "unhandled error", error=repr(exc), exc_info_text=_trace(exc))
    return MdsError("internal error; quote the request ID when reporting it")


def _trace(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(exc))
