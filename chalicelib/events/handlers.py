"""Event handlers: Lambda entry points for SQS (S3 ObjectCreated) and schedules."""

from __future__ import annotations

from typing import Any


def on_upload_event(event: Any) -> None:
    """Placeholder until the upload pipeline lands (being built now)."""
    for _record in event:
        pass


def housekeeping(event: Any) -> None:
    """Placeholder until the housekeeping sweep lands (being built now)."""
