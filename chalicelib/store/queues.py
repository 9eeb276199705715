"""Sending to our SQS queues (the receiving side is Lambda's, or the local worker's, not ours)."""

from __future__ import annotations

from functools import cache

from chalicelib.store import aws


@cache
def _url(queue_name: str) -> str:
    return aws.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]


def send(queue_name: str, body: str) -> None:
    aws.client("sqs").send_message(QueueUrl=_url(queue_name), MessageBody=body)


def reset() -> None:
    """Forget queue URLs (tests that switch moto instances)."""
    _url.cache_clear()
