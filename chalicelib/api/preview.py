"""Console REST: the delivery preview (a dry run of what one device context gets from every product)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.console import WORKSPACE
from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.api.schemas import Body

preview = Blueprint(__name__)


class PreviewBody(Body):
    """A device context, as the SDKs send it (without the tenant: that is in the path)."""

    platform: str
    client_version: str | None = None
    user_id: str | None = None
    device_id: str | None = None
    os_version: str | None = None
    model: str | None = None
    city: str | None = None
    net_type: str | None = None
    channel: str | None = None


@endpoint(preview, WORKSPACE + "/delivery/preview", methods=["POST"], body=PreviewBody)
def delivery_preview(request: ApiRequest) -> dict[str, Any]:
    """What a device with this context gets for every product, and whether it was answered statically;
    entries that need a time-window claim are reported as "needs the dynamic API" (no quota is used)."""
    from chalicelib.services import preview as service

    context = request.body.model_dump(by_alias=True, exclude_none=True)
    return service.preview(request.caller, request.tenant, context)
