"""Switch configuration as delivery candidates (product ``config``): the interface the manifests and
the dynamic check API use.

- ``candidates(tenant, platform, now=)``: for every active item of the platform (``all`` items are in
  both platforms' manifests), its targeted values in order and then its default value, each a
  ``Candidate`` whose ``subject`` is the key: ``decide_each`` gives a device at most one value per key,
  the first that applies (docs/config.md, "Resolution order").
- ``claim``: config has no server-side claims (nothing is ``dynamic``).
- ``answer(chosen, device)``: ``{"configs": {key: {"value", "type"}}}``.

Keys with nothing to decide (only a default value on this platform) travel in one bundled candidate
(``domain.config.manifest_candidates``).
"""

from __future__ import annotations

from chalicelib.domain import config
from chalicelib.domain.delivery import Candidate
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId


def candidates(tenant: TenantId, platform: Platform, *, now: int) -> list[Candidate]:
    from chalicelib.store import config_items

    return config.manifest_candidates([s.item for s in config_items.list_items(tenant)], platform)


def claim(tenant: TenantId, candidate: Candidate, device: Device, *, now: int) -> bool:
    return True  # no config candidate is dynamic


