"""The local stack's parts against a real moto server on a free port: template resources,
the SQS worker, the scheduler, the CDN emulator and the journal that survives restarts."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
import requests
from chalice import Chalice
from moto.server import ThreadedMotoServer

from mds.local.cdn import CdnServer, parse_range
from mds.local.moto_server import JOURNAL_NAME, LocalMoto
from mds.local.resources import aws_clients, ensure_resources
from mds.local.scheduler import Scheduler, rate_seconds
from mds.local.template import DEFAULT_TEMPLATE, read_template
from mds.local.worker import SqsWorker, workers_for_app
from tests.builders import wait_for

STACK = "mds-localtest"
REGION = "us-east-1"
ACCOUNT = "123456789012"
TEMPLATE = json.loads(Path(DEFAULT_TEMPLATE).read_text())


def template_resources(kind: str) -> dict[str, dict]:
    return {k: v for k, v in TEMPLATE["Resources"].items() if isinstance(v, dict) and v.get("Type") == kind}


@pytest.fixture(scope="module")
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # 0: the OS picks a free port
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def clients(moto_url):
    return aws_clients(moto_url, REGION)


@pytest.fixture
def stack(moto_url):
    """Ensured per test: the journal tests reset moto's (process-wide) state."""
    return ensure_resources(moto_url, stack=STACK, region=REGION)




# --- resources from the template ---------------------------------------------------------------


def test_every_template_table_bucket_and_queue_exists(stack, clients):
    spec = read_template(stack=STACK, region=REGION)
    tables = template_resources("AWS::DynamoDB::Table")
    assert set(stack.tables) == set(tables) and tables
    for logical_id, body in tables.items():
        described = clients["dynamodb"].describe_table(TableName=stack.tables[logical_id])["Table"]
        props = body["Properties"]
        assert described["KeySchema"] == props["KeySchema"]
        assert {(a["AttributeName"], a["AttributeType"]) for a in described["AttributeDefinitions"]} == {
            (a["AttributeName"], a["AttributeType"]) for a in props["AttributeDefinitions"]
        }
        assert sorted(i["IndexName"] for i in described.get("GlobalSecondaryIndexes", [])) == sorted(
            i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])
        )
        if "TimeToLiveSpecification" in props:
            ttl = clients["dynamodb"].describe_time_to_live(TableName=stack.tables[logical_id])
            assert (
                ttl["TimeToLiveDescription"]["AttributeName"]
                == props["TimeToLiveSpecification"]["AttributeName"]
            )

    buckets = template_resources("AWS::S3::Bucket")
    assert set(stack.buckets) == set(buckets) and buckets
    for logical_id, body in buckets.items():
        name = stack.buckets[logical_id]
        assert name == spec.by_logical_id[logical_id].name and name.startswith(STACK)
        clients["s3"].head_bucket(Bucket=name)
        if "VersioningConfiguration" in body["Properties"]:
            assert clients["s3"].get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
        if "CorsConfiguration" in body["Properties"]:
            assert clients["s3"].get_bucket_cors(Bucket=name)["CORSRules"]

    queues = template_resources("AWS::SQS::Queue")
    assert set(stack.queue_urls) == set(queues) and queues
    for logical_id, body in queues.items():
        attributes = clients["sqs"].get_queue_attributes(
            QueueUrl=stack.queue_urls[logical_id], AttributeNames=["All"]
        )
        attributes = attributes["Attributes"]
        assert attributes["QueueArn"] == stack.queue_arns[logical_id]
        if "RedrivePolicy" in body["Properties"]:
            policy = json.loads(attributes["RedrivePolicy"])
            dlq = body["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert policy["deadLetterTargetArn"] == stack.queue_arns[dlq]
            assert int(policy["maxReceiveCount"]) == body["Properties"]["RedrivePolicy"]["maxReceiveCount"]


def test_ensuring_twice_changes_nothing(stack, moto_url):
    changes: list[str] = []
    again = ensure_resources(moto_url, stack=STACK, region=REGION, log=changes.append)
    assert again == stack
    assert changes == []


def test_notification_test_event_is_drained(stack, clients):
    queue = stack.queue_urls["EventsQueue"]
    messages = clients["sqs"].receive_message(QueueUrl=queue, WaitTimeSeconds=0, VisibilityTimeout=0)
    assert "s3:TestEvent" not in json.dumps(messages.get("Messages", []))


def test_presigned_post_to_uploads_notifies_the_events_queue(stack, clients):
    key = "uploads/tenant/package 1.zip"
    post = clients["s3"].generate_presigned_post(stack.buckets["ArtifactsBucket"], key)
    response = requests.post(
        post["url"], data=post["fields"], files={"file": ("p.zip", b"PK\x03\x04")}, timeout=10
    )
    assert response.status_code == 204
    queue = stack.queue_urls["EventsQueue"]
    messages = wait_for(
        lambda: clients["sqs"].receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages")
    )
    record = json.loads(messages[0]["Body"])["Records"][0]
    assert record["eventName"].startswith("ObjectCreated")
    assert unquote_plus(record["s3"]["object"]["key"]) == key  # moto quote_plus'es the key
    clients["sqs"].purge_queue(QueueUrl=queue)


# --- worker ------------------------------------------------------------------------------------


def test_worker_delivers_a_lambda_shaped_event_and_deletes_the_message(stack, clients):
    app = Chalice(app_name="worker-test")
    seen = []

    @app.on_sqs_message(queue=f"{STACK}-events", batch_size=1)
    def on_event(event):
        seen.extend((r.body, r.to_dict()) for r in event)

    [worker] = workers_for_app(app, clients["sqs"], region=REGION, account=ACCOUNT)
    queue = stack.queue_urls["EventsQueue"]
    clients["sqs"].send_message(QueueUrl=queue, MessageBody="hello")
    worker.start()
    try:
        wait_for(lambda: seen)
    finally:
        worker.stop()
    body, record = seen[0]
    assert body == "hello"
    assert record["eventSourceARN"] == stack.queue_arns["EventsQueue"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageId"] and record["receiptHandle"]
    attributes = clients["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_a_handler_that_always_fails_sends_the_message_to_the_dlq(stack, clients, capsys):
    max_receives = TEMPLATE["Resources"]["EventsQueue"]["Properties"]["RedrivePolicy"]["maxReceiveCount"]
    attempts = []

    def failing(event, context):
        attempts.append(1)
        raise RuntimeError("boom")

    queue, dlq = stack.queue_urls["EventsQueue"], stack.queue_urls["EventsDLQ"]
    worker = SqsWorker(
        clients["sqs"], queue_url=queue, queue_arn=stack.queue_arns["EventsQueue"], handler=failing,
        function_name="failing", visibility_timeout=0,  # visible again at once: no 5 s waits in a test
    )  # fmt: skip
    clients["sqs"].send_message(QueueUrl=queue, MessageBody="poison")
    worker.start()
    try:
        moved = wait_for(
            lambda: clients["sqs"].receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages"), seconds=20
        )
    finally:
        worker.stop()
    assert [m["Body"] for m in moved] == ["poison"]
    assert len(attempts) == max_receives
    assert clients["sqs"].receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages") is None
    failures = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert sum(f["event"] == "handler_failed" for f in failures) == max_receives
    assert any(f["event"] == "dead_lettered" for f in failures)
    clients["sqs"].purge_queue(QueueUrl=dlq)


# --- scheduler ---------------------------------------------------------------------------------


def test_scheduler_runs_rate_schedules_with_an_eventbridge_event():
    app = Chalice(app_name="schedule-test")
    events = []

    @app.schedule("rate(2 minutes)", name="tick")
    def tick(event):
        events.append(event.to_dict())

    now = [1000.0]
    scheduler = Scheduler.for_app(app, stack=STACK, region=REGION, account=ACCOUNT, clock=lambda: now[0])
    assert scheduler.run_due() == []
    now[0] += 120
    assert scheduler.run_due() == ["tick"]
    assert scheduler.run_due() == []
    event = events[0]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert {"version", "id", "account", "time", "region", "resources", "detail"} <= set(event)
    assert rate_seconds("rate(1 minute)") == 60 and rate_seconds("rate(3 hours)") == 10800
    assert rate_seconds("cron(0 12 * * ? *)") is None


# --- CDN emulator ------------------------------------------------------------------------------


@pytest.fixture
def cdn(stack, clients):
    server = CdnServer(clients["s3"], stack.buckets["DeliveryBucket"], port=0)
    server.start()
    yield server
    server.stop()


def test_cdn_never_mixes_the_headers_of_one_object_with_the_body_of_its_replacement(cdn, stack, clients):
    """The publisher rewrites an index while devices read it: a read answers the old object or the new
    one, whole (bench/publish_latency.py once got the new body cut to the old length)."""
    import hashlib

    bucket, s3 = stack.buckets["DeliveryBucket"], clients["s3"]
    old, new = b'{"sequence": 1}', b'{"sequence": 2, "segments": ["a", "b", "c"]}'
    s3.put_object(Bucket=bucket, Key="m/index.json", Body=old)
    replaced = []

    def replace_after_the_first_head(**_):  # the publisher's write lands between the CDN's two reads
        if not replaced:
            replaced.append(True)
            s3.put_object(Bucket=bucket, Key="m/index.json", Body=new)

    s3.meta.events.register("after-call.s3.HeadObject", replace_after_the_first_head)
    try:
        reply = requests.get(f"{cdn.url}/m/index.json", timeout=5)
    finally:
        s3.meta.events.unregister("after-call.s3.HeadObject", replace_after_the_first_head)
    assert replaced
    assert reply.status_code == 200 and reply.content == new
    assert reply.headers["ETag"] == f'"{hashlib.md5(new).hexdigest()}"'
    assert reply.headers["Content-Length"] == str(len(new))


def test_cdn_serves_objects_with_cache_headers(cdn, stack, clients):
    bucket = stack.buckets["DeliveryBucket"]
    clients["s3"].put_object(Bucket=bucket, Key="m/a.json", Body=b'{"a": 1}', ContentType="application/json")
    clients["s3"].put_object(Bucket=bucket, Key="m/b.json", Body=b"{}", CacheControl="no-cache")

    reply = requests.get(f"{cdn.url}/m/a.json", timeout=5)
    assert reply.status_code == 200 and reply.content == b'{"a": 1}'
    assert reply.headers["ETag"].startswith('"')
    assert reply.headers["Cache-Control"] == "public, max-age=60"
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.headers["Last-Modified"].endswith("GMT")
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert requests.get(f"{cdn.url}/m/b.json", timeout=5).headers["Cache-Control"] == "no-cache"

    head = requests.head(f"{cdn.url}/m/a.json", timeout=5)
    assert head.status_code == 200 and head.headers["Content-Length"] == "8" and head.content == b""

    etag = reply.headers["ETag"]
    not_modified = requests.get(f"{cdn.url}/m/a.json", headers={"If-None-Match": etag}, timeout=5)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["ETag"] == etag
    stale = requests.get(f"{cdn.url}/m/a.json", headers={"If-None-Match": '"other"'}, timeout=5)
    assert stale.status_code == 200


def test_cdn_ranges_missing_objects_and_methods(cdn, stack, clients):
    clients["s3"].put_object(Bucket=stack.buckets["DeliveryBucket"], Key="p/pkg.bin", Body=b"0123456789")

    def get(range_header):
        return requests.get(f"{cdn.url}/p/pkg.bin", headers={"Range": range_header}, timeout=5)

    first = get("bytes=0-3")
    assert first.status_code == 206 and first.content == b"0123"
    assert first.headers["Content-Range"] == "bytes 0-3/10"
    assert get("bytes=7-").content == b"789"
    assert get("bytes=-2").content == b"89"
    assert get("bytes=5-100").headers["Content-Range"] == "bytes 5-9/10"
    unsatisfiable = get("bytes=10-")
    assert unsatisfiable.status_code == 416 and unsatisfiable.headers["Content-Range"] == "bytes */10"
    assert get("bytes=0-1,4-5").status_code == 200  # several ranges: the whole object

    assert requests.get(f"{cdn.url}/p/missing.bin", timeout=5).status_code == 404
    assert requests.get(f"{cdn.url}/", timeout=5).status_code == 404
    for method in ("POST", "PUT", "DELETE"):
        assert requests.request(method, f"{cdn.url}/p/pkg.bin", timeout=5).status_code == 405
    assert parse_range("bytes=3-1", 10) is None


# --- journal: state survives a restart, reads are not journaled --------------------------------


@pytest.fixture
def local_moto(tmp_path):
    servers = []

    def start() -> LocalMoto:
        if servers:
            servers[-1].stop()
        server = LocalMoto(tmp_path, port=0)
        server.start()
        servers.append(server)
        return server

    yield start
    servers[-1].stop()


def journal_lines(path: Path) -> int:
    return sum(1 for _ in (path / JOURNAL_NAME).open())


def test_journal_replays_writes_but_not_reads(local_moto, tmp_path):
    moto = local_moto()
    stack = ensure_resources(moto.url, stack=STACK, region=REGION)
    c = aws_clients(moto.url, REGION)
    table, bucket = stack.tables["Users"], stack.buckets["ArtifactsBucket"]
    queue = stack.queue_urls["EventsQueue"]
    c["dynamodb"].put_item(TableName=table, Item={"username": {"S": "alice"}, "n": {"N": "1"}})
    version = c["s3"].put_object(Bucket=bucket, Key="data/a.bin", Body=b"\x00\xffbytes")["VersionId"]
    c["sqs"].send_message(QueueUrl=queue, MessageBody="handled")
    [handled] = c["sqs"].receive_message(QueueUrl=queue, VisibilityTimeout=30)["Messages"]
    c["sqs"].delete_message(QueueUrl=queue, ReceiptHandle=handled["ReceiptHandle"])
    kept_id = c["sqs"].send_message(QueueUrl=queue, MessageBody="pending")["MessageId"]

    before = journal_lines(tmp_path)
    for _ in range(5):
        c["dynamodb"].get_item(TableName=table, Key={"username": {"S": "alice"}})
        c["s3"].get_object(Bucket=bucket, Key="data/a.bin")
        c["sqs"].receive_message(QueueUrl=queue, VisibilityTimeout=0, WaitTimeSeconds=0)
    assert journal_lines(tmp_path) == before

    moto = local_moto()  # restart: moto's state is rebuilt from the journal alone
    c = aws_clients(moto.url, REGION)
    assert c["dynamodb"].get_item(TableName=table, Key={"username": {"S": "alice"}})["Item"]["n"] == {
        "N": "1"
    }
    assert (
        c["s3"].get_object(Bucket=bucket, Key="data/a.bin", VersionId=version)["Body"].read()
        == b"\x00\xffbytes"
    )
    remaining = c["sqs"].receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in remaining] == [(kept_id, "pending")]
    changes: list[str] = []
    ensure_resources(moto.url, stack=STACK, region=REGION, log=changes.append)
    assert changes == []


def test_a_torn_last_journal_line_is_dropped(local_moto, tmp_path):
    moto = local_moto()
    stack = ensure_resources(moto.url, stack=STACK, region=REGION)
    moto.stop()
    with (tmp_path / JOURNAL_NAME).open("ab") as journal:
        journal.write(b'{"seq": 999, "environ": {"REQUEST_')  # a crash mid-write
    moto = local_moto()
    c = aws_clients(moto.url, REGION)
    c["s3"].head_bucket(Bucket=stack.buckets["DeliveryBucket"])
    c["s3"].put_object(Bucket=stack.buckets["DeliveryBucket"], Key="after", Body=b"x")
    lines = (tmp_path / JOURNAL_NAME).read_bytes().splitlines()
    assert all(json.loads(line) for line in lines)
