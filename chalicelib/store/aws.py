"""Lazy, cached boto3 clients: created on first use, never at import (moto and cold start)."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.config import settings


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    cfg = settings()
    return boto3.client(
        service,
        region_name=cfg.region,
        config=Config(retries={"mode": "standard", "max_attempts": 4}, signature_version=_sig(service)),
    )


def _sig(service: str) -> str | None:
    return "s3v4" if service == "s3" else None


def reset() -> None:
    """Drop cached clients (tests that switch endpoints or moto instances)."""
    client.cache_clear()
