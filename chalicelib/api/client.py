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
    from chalicelib.services import checks

    return checks.check(product, request.body.model_dump(by_alias=True, exclude_none=True))


@endpoint(client, "/client/v1/events", methods=["POST"], body=dict, public=True, status=202)
def events(request: ApiRequest) -> dict[str, Any]:
    """A batch of device events (docs/events.md); 202 once queued, counted by the aggregator."""
    from chalicelib.services import device_events

    return device_events.accept(request.body)
