"""Re-publishing the manifests a change affects. Services call ``changed`` after they commit."""

from __future__ import annotations

from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId


def changed(tenant: TenantId, product: str, platforms: tuple[Platform, ...] = (Platform.ANDROID, Platform.IOS)) -> None:
    """A committed change may alter what devices of ``product`` on ``platforms`` get: re-publish them.

    (Being built in the static-delivery issue; until then this is a no-op so products can call it.)
    """
    del tenant, product, platforms
