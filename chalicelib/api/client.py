"""Device-facing endpoints: public (no credentials), rate-limited per device, and each answer is only
about the requesting device."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.api.schemas import CheckBody

client = Blueprint(__name__)


@endpoint(client, "/client/v1/{product}/check", methods=["POST"], body=CheckBody, public=True)
def check(request: ApiRequest, product: str) -> dict[str, Any]:
    """The device's answer. A client of protocol 2 (``"protocol": 2``) also gets ``grants``: the signed
    time-window places it holds, to keep and re-verify offline (docs/delivery.md, "Grants")."""
    from chalicelib.services import checks

    context = request.body.model_dump(by_alias=True, exclude_none=True)
    protocol = context.pop("protocol", 1)
    answer, grants = checks.check_with_grants(product, context)
    return {**answer, "grants": grants} if protocol >= 2 else answer


@endpoint(client, "/client/v1/events", methods=["POST"], body=dict, public=True, status=202)
def events(request: ApiRequest) -> dict[str, Any]:
    """A batch of device events (docs/events.md); 202 once queued, counted by the aggregator."""
    from chalicelib.services import device_events

    return device_events.accept(request.body)
