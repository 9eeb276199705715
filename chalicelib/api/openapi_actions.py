"""The registry of mPaaS OpenAPI actions: product modules (``openapi_h5``, ``openapi_upgrade``…)
register theirs with ``@action(...)``; ``api/openapi.py`` authenticates, dispatches and wraps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.tenancy import TenantId
from chalicelib.services.context import Call


@dataclass(frozen=True)
class Action:
    name: str
    result_key: str
    permission: Permission
    handler: Callable[[Call, TenantId, dict[str, str]], dict[str, Any]]
    status_key: str | None = None  # the sub-object holding Success/ResultMsg, where the model nests it

    def result(self, status: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        """The result object: ``Success``/``ResultMsg``(/``ErrorCode``) beside the action's fields, or
        inside ``status_key`` (e.g. ``ResultContent.Data`` of DeleteMdsWhitelistContent)."""
        if self.status_key is None:
            return {**status, **fields}
        inner = fields.get(self.status_key) or {}
        return {**fields, self.status_key: {**status, **inner}}


ACTIONS: dict[str, Action] = {}


def action(name: str, *, result_key: str, permission: Permission, status_key: str | None = None) -> Callable:
    """Register ``handler(call, tenant, params) -> result fields`` for one OpenAPI action."""

    def register(handler: Callable[[Call, TenantId, dict[str, str]], dict[str, Any]]) -> Callable:
        ACTIONS[name] = Action(name, result_key, permission, handler, status_key)
        return handler

    return register
