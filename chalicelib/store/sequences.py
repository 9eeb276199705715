"""Numeric IDs per tenant (mPaaS clients expect numbers): one atomic ADD, never read-modify-write."""

from __future__ import annotations

from chalicelib.domain.tenancy import TenantId
from chalicelib.store.models import SequenceModel


def next_id(tenant: TenantId) -> int:
    counter = SequenceModel(tenant=f"seq#{tenant.key}")
    counter.update(actions=[SequenceModel.value.add(1)])
    return int(counter.value)
