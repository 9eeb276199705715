"""Console REST for static delivery: the public keys apps pin, key rotation, publish status, and the
reach of each release (what the devices reported)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.console import WORKSPACE
from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.api.schemas import DeliverySettingsBody

delivery = Blueprint(__name__)


@endpoint(delivery, WORKSPACE + "/signing-keys", methods=["GET"])
def signing_keys(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import signing_keys as service

    return service.export(request.caller, request.tenant)


@endpoint(delivery, WORKSPACE + "/signing-keys/rotate", methods=["POST"])
def rotate_signing_key(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import key_rotation

    return key_rotation.rotate(request.caller, request.tenant)


@endpoint(delivery, WORKSPACE + "/delivery/settings", methods=["GET"])
def delivery_settings(request: ApiRequest) -> dict[str, Any]:
    """The poll interval devices of this workspace are given (``pollSeconds``), with its bounds."""
    from chalicelib.services import delivery_settings as service

    return service.get(request.caller, request.tenant)


@endpoint(delivery, WORKSPACE + "/delivery/settings", methods=["PUT"], body=DeliverySettingsBody)
def update_delivery_settings(request: ApiRequest) -> dict[str, Any]:
    """Admins: ``{"pollSeconds": N}`` (60 ... 86400); every index is re-published with it."""
    from chalicelib.services import delivery_settings as service

    return service.set_poll(request.caller, request.tenant, request.body.poll_seconds)


@endpoint(delivery, WORKSPACE + "/delivery/{product}/{platform}", methods=["GET"])
def publish_status(request: ApiRequest, product: str, platform: str) -> dict[str, Any]:
    from chalicelib.services import publishing

    return publishing.status(request.caller, request.tenant, product, platform)


@endpoint(delivery, WORKSPACE + "/reach/{release}", methods=["GET"])
def reach(request: ApiRequest, release: str) -> dict[str, Any]:
    """What happened on the devices for one release (``upgrade-task-12``, ``config:feed_v2``…)."""
    from chalicelib.services import device_events

    return device_events.reach(request.caller, request.tenant, release)


@endpoint(delivery, WORKSPACE + "/rollouts/{release}", methods=["PUT"], body=dict)
def set_rollout(request: ApiRequest, release: str) -> dict[str, Any]:
    """A progressive rollout plan: ``{"steps": [{"percent", "bakeMinutes"}], "guardrail"?}``."""
    from chalicelib.services import rollouts

    return rollouts.set_plan(request.caller, request.tenant, release, request.body)


@endpoint(delivery, WORKSPACE + "/rollouts/{release}", methods=["GET"])
def get_rollout(request: ApiRequest, release: str) -> dict[str, Any]:
    from chalicelib.services import rollouts

    return rollouts.get_plan(request.caller, request.tenant, release)


@endpoint(delivery, WORKSPACE + "/rollouts/{release}/resume", methods=["POST"])
def resume_rollout(request: ApiRequest, release: str) -> dict[str, Any]:
    """Go on with a paused plan at its step (the release is resumed too)."""
    from chalicelib.services import rollouts

    return rollouts.resume(request.caller, request.tenant, release)


@endpoint(delivery, WORKSPACE + "/rollouts/{release}/rollback", methods=["POST"])
def rollback_rollout(request: ApiRequest, release: str) -> dict[str, Any]:
    """End the release: devices go back to what they had before it."""
    from chalicelib.services import rollouts

    return rollouts.rollback(request.caller, request.tenant, release)


@endpoint(delivery, WORKSPACE + "/rollouts/{release}", methods=["DELETE"])
def remove_rollout(request: ApiRequest, release: str) -> None:
    from chalicelib.services import rollouts

    rollouts.remove_plan(request.caller, request.tenant, release)
