"""Delivers SQS messages to the app's ``@app.on_sqs_message`` handlers, as Lambda would.

Lambda's SQS event source polls, invokes the handler with a batch, deletes the batch when the
handler returns and leaves it to reappear after the visibility timeout when it raises. Locally
the visibility timeout is short (5 s) so retries come quickly.

Dead-lettering: moto moves a message to the DLQ itself once its receive count reaches
``maxReceiveCount``, but it does so inside a ReceiveMessage, which the journal does not keep, so
after a restart the message would be back in the main queue. The worker therefore moves it
itself after the last allowed failure, with SendMessage to the DLQ and DeleteMessage, which are
journaled like any write. The DLQ copy gets a new message ID.
"""

from __future__ import annotations

import base64
import json
import threading
import traceback
from dataclasses import dataclass
from typing import Any

from chalice.app import Chalice, SQSEventConfig
from chalice.local import LambdaContext

from mds.local.logs import log_event

LOCAL_VISIBILITY_TIMEOUT = 5
WAIT_SECONDS = 1
_RETRY_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class Redrive:
    dlq_url: str
    max_receive_count: int


class SqsWorker:
    """Polls one queue and invokes one handler; ``start()``/``stop()`` run it in a thread."""

    def __init__(
        self,
        sqs: Any,
        *,
        queue_url: str,
        queue_arn: str,
        handler: Any,
        function_name: str,
        batch_size: int = 1,
        visibility_timeout: int = LOCAL_VISIBILITY_TIMEOUT,
        wait_seconds: int = WAIT_SECONDS,
    ) -> None:
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.handler, self.function_name = handler, function_name
        self.batch_size = max(1, min(batch_size, 10))
        self.visibility_timeout, self.wait_seconds = visibility_timeout, wait_seconds
        self.region = queue_arn.split(":")[3]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._redrive: Redrive | None = None

    def start(self) -> None:
        self._redrive = self._read_redrive()
        self._thread = threading.Thread(target=self._run, name=f"worker-{self.function_name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Lets a batch in flight finish (a handler is never cut off halfway)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as err:  # noqa: BLE001 - the worker must outlive any error
                log_event("worker", "poll_failed", level="error", queue=self.queue_url, error=repr(err))
                self._stop.wait(_RETRY_PAUSE_SECONDS)

    def poll_once(self) -> int:
        """Receives one batch and delivers it; returns how many messages were received."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            VisibilityTimeout=self.visibility_timeout,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if messages:
            self.deliver(messages)
        return len(messages)

    def deliver(self, messages: list[dict[str, Any]]) -> bool:
        event = sqs_event(messages, self.queue_arn, self.region)
        context = LambdaContext(self.function_name, memory_size=512, max_runtime_ms=60_000)
        try:
            self.handler(event, context)
        except Exception as err:  # noqa: BLE001 - a failed invocation, as Lambda would see it
            log_event(
                "worker", "handler_failed", level="error", function=self.function_name,
                message_ids=[m["MessageId"] for m in messages],
                receive_counts=[_receive_count(m) for m in messages],
                error=repr(err), traceback=traceback.format_exc(),
            )  # fmt: skip
            self._dead_letter_exhausted(messages)
            return False
        self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        return True

    def _dead_letter_exhausted(self, messages: list[dict[str, Any]]) -> None:
        if self._redrive is None:
            return
        for message in messages:
            if _receive_count(message) < self._redrive.max_receive_count:
                continue
            self.sqs.send_message(
                QueueUrl=self._redrive.dlq_url,
                MessageBody=message["Body"],
                **(
                    {"MessageAttributes": message["MessageAttributes"]}
                    if message.get("MessageAttributes")
                    else {}
                ),
            )
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            log_event(
                "worker", "dead_lettered", level="warning", function=self.function_name,
                message_id=message["MessageId"], receive_count=_receive_count(message),
                dlq=self._redrive.dlq_url,
            )  # fmt: skip

    def _read_redrive(self) -> Redrive | None:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"])
        policy = attributes.get("Attributes", {}).get("RedrivePolicy")
        if not policy:
            return None
        policy = json.loads(policy)
        dlq_name = policy["deadLetterTargetArn"].rsplit(":", 1)[-1]
        dlq_url = self.sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
        return Redrive(dlq_url, int(policy["maxReceiveCount"]))


def _receive_count(message: dict[str, Any]) -> int:
    return int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source passes to the function."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {
                    name: {_lower_first(k): _lambda_value(v) for k, v in value.items()}
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def _lower_first(key: str) -> str:
    return key[:1].lower() + key[1:]


def _lambda_value(value: Any) -> Any:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def workers_for_app(app: Chalice, sqs: Any, *, region: str, account: str) -> list[SqsWorker]:
    """One worker per ``@app.on_sqs_message`` handler registered on the Chalice app."""
    workers = []
    for source in app.event_sources:
        if not isinstance(source, SQSEventConfig):
            continue
        queue_name = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
        workers.append(
            SqsWorker(
                sqs,
                queue_url=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"],
                queue_arn=source.queue_arn or f"arn:aws:sqs:{region}:{account}:{queue_name}",
                handler=app.handler_map[source.name],
                function_name=source.name,
                batch_size=source.batch_size,
            )
        )
    return workers
