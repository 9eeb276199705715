"""The delivery products and how each plugs into static delivery: its live candidates in priority
order (each with a ``subject``: what it competes for), its server-side claim (for dynamic candidates),
and its client answer for the decision per subject (``domain.delivery.decide_each``).

``WINGS`` is the one list of products: the publisher, the preview, the whitelist in-use check and the
upload event handler all read it (``tests/unit/test_products_registry.py`` finds any module it misses)."""

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


@dataclass(frozen=True)
class Wing:
    """Where one product lives: the one registration every product list of the code reads."""

    delivery: str  # candidates(), claim() and, with dynamic candidates, is_full(): static delivery
    releases: str | None  # using_whitelist(tenant, id): what of it a whitelist deletion must respect
    processors: tuple[str, ...]  # modules registering @uploads.processor for its uploads


_S = "chalicelib.services."
WINGS: dict[str, Wing] = {
    "upgrade": Wing(_S + "upgrade_delivery", _S + "upgrade_tasks", (_S + "package_files",)),
    "config": Wing(_S + "config_delivery", _S + "config_items", (_S + "config_items",)),
    "hotpatch": Wing(_S + "hotpatch_delivery", _S + "hotpatch_releases", (_S + "hotpatch",)),
    "h5": Wing(
        _S + "h5_delivery", _S + "h5_tasks", (_S + "h5_resources", _S + "h5_batch", _S + "h5_settings")
    ),
}
# uploads that belong to no product: whitelist member files
SHARED_PROCESSORS = (_S + "whitelists",)


def processor_modules() -> tuple[str, ...]:
    """Every module that registers an upload processor (the upload event handler imports them)."""
    found = [m for wing in WINGS.values() for m in wing.processors] + list(SHARED_PROCESSORS)
    return tuple(dict.fromkeys(found))


def whitelist_users() -> tuple[str, ...]:
    """Every module with ``using_whitelist(tenant, id)``."""
    return tuple(w.releases for w in WINGS.values() if w.releases)


@dataclass(frozen=True)
class Product:
    name: str
    # (tenant, platform, *, now) -> candidates in priority order, rollout plans applied
    candidates: Callable[..., list[Candidate]]
    claim: Callable[..., bool]  # (tenant, candidate, device, *, now) -> granted
    is_full: Callable[..., bool]  # (tenant, candidate) -> a dynamic candidate's quota is used up
    answer: Callable[[Mapping[str, Candidate], Device], dict[str, Any]]  # {subject: chosen} -> answer


def register(name: str, module_name: str) -> None:
    """Plug a delivery-only product in (tests add fakes). Its module provides candidates() and
    claim(), and answer() unless ``domain.answers`` has the product's."""
    module = importlib.import_module(module_name)
    WINGS[name] = Wing(module_name, None, ())
    answers.ANSWERS.setdefault(name, module.answer)


def names() -> tuple[str, ...]:
    return tuple(WINGS)


def get(name: str) -> Product:
    wing = WINGS.get(name)
    if wing is None:
        raise NotFound(f"unknown product {name!r}; one of: {', '.join(WINGS)}")
    module = importlib.import_module(wing.delivery)

    def candidates(tenant: TenantId, platform: Platform, *, now: int) -> list[Candidate]:
        return _narrowed(tenant, module.candidates(tenant, platform, now=now))

    is_full = getattr(module, "is_full", _never_full)
    return Product(name, candidates, module.claim, is_full, answers.ANSWERS[name])


def _narrowed(tenant: TenantId, candidates: list[Candidate]) -> list[Candidate]:
    """``candidates`` with every rollout plan's current step applied (the one place plans reach
    devices; the plans themselves are ``services.rollouts``)."""
    from chalicelib.domain.rollouts import narrow
    from chalicelib.store import rollouts as plans

    if not candidates:
        return candidates
    found = plans.for_tenant(tenant)
    return narrow(candidates, found) if found else candidates


def _never_full(tenant: TenantId, candidate: Candidate) -> bool:
    return False  # products without dynamic candidates


PLATFORMS = (Platform.ANDROID, Platform.IOS)
TenantProduct = tuple[TenantId, str]
