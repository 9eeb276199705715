"""The one page-number paging of console lists (H5 apps and versions, config items)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from chalicelib.domain.errors import ValidationError

T = TypeVar("T")


def check_page(page: object, page_size: object, *, max_page_size: int) -> None:
    """Raises ValidationError naming ``page`` or ``pageSize`` and the rule broken."""
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValidationError("page", "must be an integer of at least 1")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= max_page_size:
        raise ValidationError("pageSize", f"must be an integer from 1 to {max_page_size}")


def page_of(found: Sequence[T], view: Callable[[T], Any], *, page: int, page_size: int) -> dict[str, Any]:
    """``{"items", "total", "page", "pageSize"}``: page ``page`` (from 1) of ``found``, each item viewed."""
    start = (page - 1) * page_size
    return {
        "items": [view(x) for x in found[start : start + page_size]],
        "total": len(found),
        "page": page,
        "pageSize": page_size,
    }
