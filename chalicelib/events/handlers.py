"""Event handlers: what Lambda (and the local worker) calls for SQS messages and schedules."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.logs import log


def on_upload_event(event: Any) -> None:
    """S3 ObjectCreated notifications delivered through SQS (one message may hold several records).

    A malformed message raises: SQS redelivers it and, after ``maxReceiveCount`` tries, parks it
    in the dead-letter queue for a human to look at.
    """
    import importlib

    from chalicelib.services import products, uploads

    for module in products.processor_modules():  # importing a module registers its processors
        importlib.import_module(module)

    for message in event:
        body = json.loads(message.body)
        if body.get("Event") == "s3:TestEvent":  # S3 sends one when the notification is configured
            continue
        for record in body["Records"]:
            s3 = record["s3"]
            uploads.object_created(
                s3["object"]["key"],
                size=int(s3["object"].get("size", 0)),
                etag=s3["object"].get("eTag", ""),
                at=record.get("eventTime", ""),
            )


def on_device_events(event: Any) -> None:
    """Batches of device events queued by ``POST /client/v1/events``: each fact counted once, so a
    redelivered message (a failed earlier try, or SQS's at-least-once) changes nothing."""
    from chalicelib.services import device_events

    bodies = [message.body for message in event]
    counted = device_events.ingest(bodies)
    log(logging.INFO, "device events", messages=len(bodies), newFacts=counted)


def on_publish(event: Any) -> None:
    """Changes committed by the console and API, queued by ``services.publishing.changed``: publish
    them, coalesced per batch. A failure raises, so SQS delivers the batch again (DLQ after 5 tries)."""
    from chalicelib.services import publishing

    published = publishing.on_changed([message.body for message in event])
    log(logging.INFO, "publish queue", published=published)


def housekeeping(event: Any) -> None:
    """Every minute: remove expired nonces and rate-limit windows (DynamoDB TTL lags; moto has none)."""
    from chalicelib.store import ephemeral

    deleted = ephemeral.sweep()
    if deleted:
        log(logging.INFO, "housekeeping", expiredItemsDeleted=deleted)


def reconcile(event: Any) -> None:
    """Every minute: move rollout plans whose step has baked to the next step; rebuild published
    manifests from DynamoDB (drift, time windows that ended); take H5 versions whose time window ran
    out off the CDN."""
    from chalicelib.services import h5_tasks, publishing, rollouts

    stepped = rollouts.advance()  # rollout steps that have baked move on (and republish)
    if stepped:
        log(logging.INFO, "rollouts advanced", plans=stepped)
    changed = publishing.reconcile()
    if changed:
        log(logging.INFO, "reconciled", indexesChanged=changed)
    taken_down = h5_tasks.sweep()  # H5 versions whose time window ran out: no longer downloadable
    if taken_down:
        log(logging.INFO, "h5 versions taken down", count=taken_down)
