"""Items a tenant numbers with ``sequences.next_id`` (whitelists, rules, packages, tasks).

Their range key is the number as text; guard items in the same partition (``name#…``, ``value#…``)
have non-numeric keys and are never returned here.
"""

from __future__ import annotations

from typing import TypeVar

from pynamodb.models import Model

from chalicelib.domain.errors import NotFound
from chalicelib.domain.tenancy import TenantId

M = TypeVar("M", bound=Model)


def get(model: type[M], tenant: TenantId, item_id: str, what: str) -> M:
    """The item, or NotFound naming ``what`` (also for IDs that cannot exist, such as guard keys)."""
    if not item_id.isdigit():
        raise NotFound(f"{what} {item_id} not found")
    try:
        return model.get(tenant.key, item_id, consistent_read=True)
    except model.DoesNotExist:
        raise NotFound(f"{what} {item_id} not found") from None


def all_of(model: type[M], tenant: TenantId) -> list[M]:
    """Every numbered item of the tenant, in ID order."""
    range_key = model._range_keyname  # the numeric-text key of this table
    if range_key is None:
        raise TypeError(f"{model.__name__} has no range key: not a numbered table")
    items = [m for m in model.query(tenant.key, consistent_read=True) if getattr(m, range_key).isdigit()]
    return sorted(items, key=lambda m: int(getattr(m, range_key)))
