"""The delivery products and how each plugs into static delivery: its live candidates in priority
order (each with a ``subject``: what it competes for), its server-side claim (for dynamic candidates),
and its client answer for the decision per subject (``domain.delivery.decide_each``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain import answers
from chalicelib.domain.delivery import Candidate
from chalicelib.domain.errors import NotFound
from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId

# product name -> module providing candidates(), claim(), answer()
_MODULES = {
    "upgrade": "chalicelib.services.upgrade_delivery",
    "config": "chalicelib.services.config_delivery",
    "hotpatch": "chalicelib.services.hotpatch_delivery",
    "h5": "chalicelib.services.h5_delivery",
}


@dataclass(frozen=True)
class Product:
    name: str
    # (tenant, platform, *, now) -> candidates in priority order, rollout plans applied
    candidates: Callable[..., list[Candidate]]
    claim: Callable[..., bool]  # (tenant, candidate, device, *, now) -> granted
    answer: Callable[[Mapping[str, Candidate], Device], dict[str, Any]]  # {subject: chosen} -> answer


def register(name: str, module_name: str) -> None:
    """Plug a product in (the products of this codebase are listed above; tests add fakes). Its module
    provides candidates() and claim(), and answer() unless ``domain.answers`` has the product's."""
    module = importlib.import_module(module_name)
    _MODULES[name] = module_name
    answers.ANSWERS.setdefault(name, module.answer)


def names() -> tuple[str, ...]:
    return tuple(_MODULES)


def get(name: str) -> Product:
    module_name = _MODULES.get(name)
    if module_name is None:
        raise NotFound(f"unknown product {name!r}; one of: {', '.join(_MODULES)}")
    module = importlib.import_module(module_name)

    def candidates(tenant: TenantId, platform: Platform, *, now: int) -> list[Candidate]:
        return _narrowed(tenant, module.candidates(tenant, platform, now=now))

    return Product(name, candidates, module.claim, answers.ANSWERS[name])


def _narrowed(tenant: TenantId, candidates: list[Candidate]) -> list[Candidate]:
    """``candidates`` with every rollout plan's current step applied (the one place plans reach
    devices; the plans themselves are ``services.rollouts``)."""
    from chalicelib.domain.rollouts import narrow
    from chalicelib.store import rollouts as plans

    if not candidates:
        return candidates
    found = plans.for_tenant(tenant)
    return narrow(candidates, found) if found else candidates


PLATFORMS = (Platform.ANDROID, Platform.IOS)
TenantProduct = tuple[TenantId, str]
