"""Rotating a tenant's manifest signing key: a new key, then everything published re-signed with it
(the publisher reads the current key from ``signing_keys``, so rotation sits above both)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.tenancy import TenantId
from chalicelib.services import publishing, signing_keys
from chalicelib.services.context import Call


def rotate(call: Call, tenant: TenantId) -> dict[str, Any]:
    """A new signing key (the old public key stays accepted, listed as retired), every published index
    and segment re-signed with it; returns the keys as ``signing_keys.export`` shows them."""
    signing_keys.replace(call, tenant)
    publishing.republish_tenant(tenant, force=True)
    return signing_keys.export(call, tenant)
