"""A workspace's delivery settings: how long its devices may wait between check rounds.

The poll interval is published in every index (``poll``) and sets the index's CDN headers
(``domain.manifests.index_cache_control``); changing it re-publishes the workspace's indexes.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.manifests import (
    POLL_CEILING_SECONDS,
    POLL_DEFAULT_SECONDS,
    POLL_FLOOR_SECONDS,
    check_poll_seconds,
)
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit
from chalicelib.services.context import Call


def _view(seconds: int) -> dict[str, Any]:
    return {
        "pollSeconds": seconds,
        "defaultPollSeconds": POLL_DEFAULT_SECONDS,
        "minPollSeconds": POLL_FLOOR_SECONDS,
        "maxPollSeconds": POLL_CEILING_SECONDS,
    }


def get(call: Call, tenant: TenantId) -> dict[str, Any]:
    from chalicelib.services import publishing

    audit.check(call, tenant, Permission.READ, action="delivery.read")
    return _view(publishing.poll_seconds(tenant))


def set_poll(call: Call, tenant: TenantId, poll_seconds: Any) -> dict[str, Any]:
    """Admins only; re-publishes every index of the workspace with the new cadence.

    Raises:
        ValidationError: ``pollSeconds`` is not a whole number between the floor and the ceiling.
    """
    from chalicelib.services import publishing
    from chalicelib.store import audit_log
    from chalicelib.store import delivery as store

    audit.check(call, tenant, Permission.ADMIN, action="delivery.update")
    seconds = check_poll_seconds(poll_seconds)
    before = publishing.poll_seconds(tenant)
    store.put_poll_seconds(tenant, seconds)
    audit_log.append(
        audit.entry(
            call,
            tenant,
            "delivery.update",
            "delivery_settings",
            str(tenant),
            before={"pollSeconds": before},
            after={"pollSeconds": seconds},
        )
    )
    publishing.republish_tenant(tenant)
    return _view(seconds)
