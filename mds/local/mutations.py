"""Which AWS API requests change state, so the journal keeps only those.

Unknown actions count as state-changing: an extra journal line costs a little disk, a missing
one loses data. Reads are recognised by their action name (``X-Amz-Target`` for JSON protocols
such as DynamoDB, KMS and SQS; ``Action=`` for query protocols) or, for REST services such as
S3 and CloudFront, by the HTTP method.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qs

_READ_PREFIXES = (
    "Get", "List", "Describe", "Query", "Scan", "BatchGet", "TransactGet", "Receive", "Head", "Lookup",
)  # fmt: skip
_READ_ACTIONS = frozenset(
    {
        # SQS: visibility is transient (a restart makes every message visible anyway).
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
        # KMS/STS: compute answers, store nothing.
        "Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom", "GenerateMac",
        "VerifyMac", "Sign", "Verify", "AssumeRole",
    }
)  # fmt: skip
SQS_DELETES = frozenset({"DeleteMessage", "DeleteMessageBatch"})
_REST_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/")


class Kind(Enum):
    READ = "read"  # not journaled
    WRITE = "write"  # journaled as the HTTP request
    SQS_DELETE = "sqs-delete"  # journaled by message ID (receipt handles do not survive a restart)


@dataclass(frozen=True)
class Classified:
    kind: Kind
    action: str | None = None


def classify(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Classified:
    """``headers`` with lower-case names."""
    if path.startswith("/moto-api/"):
        # Control endpoints: only a reset changes what a replay must rebuild.
        return Classified(Kind.WRITE if path.rstrip("/") == "/moto-api/reset" else Kind.READ)
    action = action_name(query, headers, body)
    if action is None:
        return Classified(Kind.READ if method.upper() in _REST_READ_METHODS else Kind.WRITE)
    if action in SQS_DELETES:
        return Classified(Kind.SQS_DELETE, action)
    if action in _READ_ACTIONS or action.startswith(_READ_PREFIXES):
        return Classified(Kind.READ, action)
    return Classified(Kind.WRITE, action)


def action_name(query: str, headers: dict[str, str], body: bytes) -> str | None:
    target = headers.get("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    params = parse_qs(query)
    if "Action" in params:
        return params["Action"][0]
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded") and body:
        params = parse_qs(body.decode("utf-8", "replace"))
        if "Action" in params:
            return params["Action"][0]
    return None


@dataclass(frozen=True)
class SqsDelete:
    queue_url: str
    receipt_handles: tuple[str, ...]


def sqs_delete_request(query: str, headers: dict[str, str], body: bytes) -> SqsDelete:
    """The queue and receipt handles of a DeleteMessage(Batch), JSON or query protocol."""
    if headers.get("x-amz-target"):
        payload = json.loads(body or b"{}")
        handles = (
            [payload["ReceiptHandle"]]
            if "ReceiptHandle" in payload
            else [entry["ReceiptHandle"] for entry in payload.get("Entries", [])]
        )
        return SqsDelete(payload.get("QueueUrl", ""), tuple(handles))
    params = {**parse_qs(body.decode("utf-8", "replace")), **parse_qs(query)}
    handles = [
        v[0] for k, v in sorted(params.items()) if k == "ReceiptHandle" or k.endswith(".ReceiptHandle")
    ]
    return SqsDelete(params.get("QueueUrl", [""])[0], tuple(handles))


def signing_region(headers: dict[str, str], default: str) -> str:
    match = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
    return match.group(1) if match else default
