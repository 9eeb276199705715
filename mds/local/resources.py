"""Creates the template's tables, buckets and queues in a local AWS endpoint, idempotently.

Each resource is compared with what the endpoint already has and only differences are written,
so a restart over an existing data dir sends no state-changing request (the journal stays
the same size). Properties with no local effect (encryption, public access block, lifecycle,
bucket/queue policies, point-in-time recovery) are not applied.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from mds.local.template import DEFAULT_TEMPLATE, MOTO_ACCOUNT_ID, Resource, StackResources, read_template

Log = Callable[[str], None]

# CloudFormation property -> SQS attribute (CFN booleans/numbers become the API's strings).
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
_QUEUE_JSON_ATTRIBUTES = ("RedrivePolicy", "RedriveAllowPolicy")
_GSI_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")
_LSI_KEYS = ("IndexName", "KeySchema", "Projection")


@dataclass(frozen=True)
class LocalResources:
    """What was ensured: logical id -> physical name (queues also by URL and ARN)."""

    stack: str
    tables: dict[str, str]
    buckets: dict[str, str]
    queue_urls: dict[str, str]
    queue_arns: dict[str, str]


@functools.lru_cache(maxsize=4)
def _session(region: str) -> boto3.session.Session:
    """One session per region: a new one would load every service model again (~60 ms a client)."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )


def aws_clients(endpoint_url: str | None, region: str = "us-east-1") -> dict[str, Any]:
    """boto3 clients for a local endpoint, with dummy credentials so they can never reach AWS.
    ``None`` keeps boto3's default endpoint, for use under moto's in-process ``mock_aws``."""
    session = _session(region)
    cfg = Config(retries={"mode": "standard", "max_attempts": 3}, signature_version="v4")
    return {
        name: session.client(name, endpoint_url=endpoint_url, config=cfg)
        for name in ("dynamodb", "s3", "sqs")
    }


def ensure_resources(
    endpoint_url: str | None,
    *,
    stack: str,
    region: str = "us-east-1",
    template: Path | str = DEFAULT_TEMPLATE,
    log: Log = lambda _msg: None,
) -> LocalResources:
    """Create or update every template table, bucket and queue at ``endpoint_url`` (``None``:
    boto3's default endpoint, i.e. moto's ``mock_aws`` in tests)."""
    spec = read_template(template, stack=stack, region=region, account=MOTO_ACCOUNT_ID)
    clients = aws_clients(endpoint_url, region)
    queue_urls = _ensure_queues(clients["sqs"], spec, log)
    for table in spec.tables:
        _ensure_table(clients["dynamodb"], table, log)
    for bucket in spec.buckets:
        _ensure_bucket(clients["s3"], clients["sqs"], bucket, region, queue_urls, log)
    return LocalResources(
        stack=stack,
        tables={t.logical_id: t.name for t in spec.tables},
        buckets={b.logical_id: b.name for b in spec.buckets},
        queue_urls={q.logical_id: queue_urls[q.arn] for q in spec.queues},
        queue_arns={q.logical_id: q.arn for q in spec.queues},
    )


# --- SQS ---------------------------------------------------------------------------------------


def _queue_attributes(queue: Resource) -> dict[str, str]:
    props = queue.properties
    attributes = {k: _api_string(props[k]) for k in _QUEUE_ATTRIBUTES if k in props}
    attributes.update({k: json.dumps(props[k]) for k in _QUEUE_JSON_ATTRIBUTES if k in props})
    return attributes


def _api_string(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _same_attribute(name: str, wanted: str, current: str | None) -> bool:
    if current is None:
        return False
    if name in _QUEUE_JSON_ATTRIBUTES:
        normalise = lambda raw: {k: str(v) for k, v in json.loads(raw).items()}  # noqa: E731
        return normalise(wanted) == normalise(current)
    return wanted.lower() == current.lower()


def _ensure_queues(sqs: Any, spec: StackResources, log: Log) -> dict[str, str]:
    """Two passes: a redrive policy may name a queue that does not exist yet."""
    urls: dict[str, str] = {}
    for queue in spec.queues:
        try:
            urls[queue.arn] = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        except ClientError as err:
            if "NonExistentQueue" not in str(err) and "QueueDoesNotExist" not in str(err):
                raise
            creation = {k: v for k, v in _queue_attributes(queue).items() if k not in _QUEUE_JSON_ATTRIBUTES}
            if queue.properties.get("FifoQueue"):
                creation["FifoQueue"] = "true"
            urls[queue.arn] = sqs.create_queue(QueueName=queue.name, Attributes=creation)["QueueUrl"]
            log(f"created queue {queue.name}")
    for queue in spec.queues:
        current = sqs.get_queue_attributes(QueueUrl=urls[queue.arn], AttributeNames=["All"])
        current = current.get("Attributes", {})
        changed = {
            name: value
            for name, value in _queue_attributes(queue).items()
            if not _same_attribute(name, value, current.get(name))
        }
        if changed:
            sqs.set_queue_attributes(QueueUrl=urls[queue.arn], Attributes=changed)
            log(f"updated queue {queue.name}: {', '.join(sorted(changed))}")
    return urls


# --- DynamoDB ----------------------------------------------------------------------------------


def _pick(source: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: source[k] for k in keys if k in source}


def _create_table_request(table: Resource) -> dict[str, Any]:
    props = table.properties
    request: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if "ProvisionedThroughput" in props:
        request["ProvisionedThroughput"] = props["ProvisionedThroughput"]
    if props.get("GlobalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [_pick(i, _GSI_KEYS) for i in props["GlobalSecondaryIndexes"]]
    if props.get("LocalSecondaryIndexes"):
        request["LocalSecondaryIndexes"] = [_pick(i, _LSI_KEYS) for i in props["LocalSecondaryIndexes"]]
    stream = props.get("StreamSpecification")
    if stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    return request


def _ensure_table(dynamodb: Any, table: Resource, log: Log) -> None:
    request = _create_table_request(table)
    try:
        current = dynamodb.describe_table(TableName=table.name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        dynamodb.create_table(**request)
        log(f"created table {table.name}")
    else:
        _add_missing_indexes(dynamodb, table, request, current, log)
    _ensure_ttl(dynamodb, table, log)


def _add_missing_indexes(
    dynamodb: Any, table: Resource, request: dict[str, Any], current: dict[str, Any], log: Log
) -> None:
    """A template that gained a GSI keeps working over an old data dir; key changes cannot."""
    if _key_names(current["KeySchema"]) != _key_names(request["KeySchema"]):
        log(f"WARNING table {table.name}: key schema differs from the template; delete the data dir")
        return
    existing = {i["IndexName"] for i in current.get("GlobalSecondaryIndexes", [])}
    for index in request.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in existing:
            continue
        dynamodb.update_table(
            TableName=table.name,
            AttributeDefinitions=request["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        log(f"added index {index['IndexName']} to table {table.name}")


def _key_names(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((k["AttributeName"], k["KeyType"]) for k in schema)


def _ensure_ttl(dynamodb: Any, table: Resource, log: Log) -> None:
    wanted = table.properties.get("TimeToLiveSpecification")
    if not wanted:
        return
    current = dynamodb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
    enabled = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    if enabled == bool(wanted.get("Enabled")) and current.get("AttributeName") == wanted["AttributeName"]:
        return
    dynamodb.update_time_to_live(
        TableName=table.name,
        TimeToLiveSpecification={
            "AttributeName": wanted["AttributeName"],
            "Enabled": bool(wanted["Enabled"]),
        },
    )
    log(f"set TTL on table {table.name} ({wanted['AttributeName']})")


# --- S3 ----------------------------------------------------------------------------------------


def _ensure_bucket(
    s3: Any, sqs: Any, bucket: Resource, region: str, queue_urls: dict[str, str], log: Log
) -> None:
    try:
        s3.head_bucket(Bucket=bucket.name)
    except ClientError:
        extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket.name, **extra)
        log(f"created bucket {bucket.name}")
    props = bucket.properties
    _ensure_versioning(s3, bucket.name, props.get("VersioningConfiguration"), log)
    _ensure_cors(s3, bucket.name, props.get("CorsConfiguration"), log)
    _ensure_notifications(s3, sqs, bucket.name, props.get("NotificationConfiguration"), queue_urls, log)


def _ensure_versioning(s3: Any, name: str, wanted: dict[str, Any] | None, log: Log) -> None:
    if not wanted:
        return
    if s3.get_bucket_versioning(Bucket=name).get("Status") != wanted["Status"]:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": wanted["Status"]})
        log(f"set versioning {wanted['Status']} on bucket {name}")


def _cors_rules(cors: dict[str, Any]) -> list[dict[str, Any]]:
    renames = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds", "Id": "ID"}
    return [{renames.get(k, k): v for k, v in rule.items()} for rule in cors.get("CorsRules", [])]


def _ensure_cors(s3: Any, name: str, wanted: dict[str, Any] | None, log: Log) -> None:
    if not wanted:
        return
    rules = _cors_rules(wanted)
    try:
        current = s3.get_bucket_cors(Bucket=name)["CORSRules"]
    except ClientError:
        current = []
    if _canonical(current) != _canonical(rules):
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        log(f"set CORS on bucket {name}")


def _queue_notifications(wanted: dict[str, Any]) -> list[dict[str, Any]]:
    configs = []
    for item in wanted.get("QueueConfigurations", []):
        config: dict[str, Any] = {"QueueArn": item["Queue"], "Events": [item["Event"]]}
        rules = item.get("Filter", {}).get("S3Key", {}).get("Rules")
        if rules:
            config["Filter"] = {
                "Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}
            }
        configs.append(config)
    return configs


def _comparable_notifications(configs: list[dict[str, Any]]) -> list[str]:
    return sorted(
        _canonical(
            {
                "QueueArn": c["QueueArn"],
                "Events": sorted(c["Events"]),
                "Rules": sorted(
                    (r["Name"].lower(), r["Value"])
                    for r in c.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                ),
            }
        )
        for c in configs
    )


def _ensure_notifications(
    s3: Any, sqs: Any, name: str, wanted: dict[str, Any] | None, queue_urls: dict[str, str], log: Log
) -> None:
    if not wanted:
        return
    if set(wanted) - {"QueueConfigurations"}:
        log(f"WARNING bucket {name}: only queue notifications are emulated locally")
    configs = _queue_notifications(wanted)
    current = s3.get_bucket_notification_configuration(Bucket=name).get("QueueConfigurations", [])
    if _comparable_notifications(current) == _comparable_notifications(configs):
        return
    s3.put_bucket_notification_configuration(
        Bucket=name, NotificationConfiguration={"QueueConfigurations": configs}
    )
    log(f"set notifications on bucket {name}")
    for arn in {c["QueueArn"] for c in configs}:
        if arn in queue_urls:
            _drain_test_events(sqs, queue_urls[arn])


def _drain_test_events(sqs: Any, queue_url: str) -> None:
    """S3 (and moto) queue an ``s3:TestEvent`` when a notification is configured; the handlers
    should never see it locally. Other messages are left visible (VisibilityTimeout=0)."""
    for _ in range(3):
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        ).get("Messages", [])
        tests = [m for m in messages if _is_test_event(m["Body"])]
        for message in tests:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if tests or not messages:
            return


def _is_test_event(body: str) -> bool:
    try:
        return json.loads(body).get("Event") == "s3:TestEvent"
    except (ValueError, AttributeError):
        return False


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
