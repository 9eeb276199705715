"""What many tests build the same way, through the real surfaces (console REST API, presigned S3
uploads, SQS-shaped Lambda events): packages, tasks, whitelists, patches, device events. Test modules
import from here, never from each other."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import boto3
import requests

from tests import app_files, h5_zips
from tests.conftest import ws_path

# --- time ---------------------------------------------------------------------------------------


def later(**delta) -> str:
    """An ISO time ``delta`` from now (``later(days=1)``)."""
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def wait_for(predicate, *, seconds: float = 60, what: str = "the condition"):
    """Poll ``predicate`` until it returns something truthy (returned); fail after ``seconds``. A wait
    for a condition, never for a duration: on a busy machine it simply takes longer."""
    deadline = time.monotonic() + seconds
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds:.0f} s"
        time.sleep(0.05)


# --- uploads: presigned POST to S3, then the S3 event as Lambda gets it --------------------------


def receive_upload_events(sqs, url) -> list[dict]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
        "Messages", []
    )
    return [m for m in messages if "s3:TestEvent" not in m["Body"]]


def deliver_upload_events(messages) -> None:
    """Call the handler exactly as Lambda would, with an SQS-shaped event."""
    from app import on_upload_event

    on_upload_event({"Records": [_sqs_record(m, "mds-test-events") for m in messages]}, None)


def send_file(aws, token: dict, content: bytes, name: str = "file.bin") -> None:
    """POST the file to S3 with its presigned policy, then deliver the S3 event as Lambda would."""
    posted = requests.post(
        token["post"]["url"], data=token["post"]["fields"], files={"file": (name, content)}, timeout=10
    )
    assert posted.status_code in (200, 204), posted.text
    deliver_upload_events(
        receive_upload_events(boto3.client("sqs", region_name="us-east-1"), aws.queue_urls["EventsQueue"])
    )


# --- upgrade ------------------------------------------------------------------------------------


def add_android(admin, demo, aws, version: str = "5.0", *, content: bytes | None = None, **extra) -> dict:
    """An Android package with an uploaded, processed APK; returns the package as the API shows it."""
    reply = admin.post(
        ws_path(demo, "/upgrade/packages"),
        {"platform": "android", "version": version, "filename": "app.apk", **extra},
    )
    assert reply.status == 201, reply.body
    send_file(aws, reply.body["upload"], app_files.apk(version) if content is None else content, "app.apk")
    return admin.get(ws_path(demo, f"/upgrade/packages/{reply.body['packageId']}")).body


def add_task(admin, demo, package_id: str, **body):
    """POST a release task on a package; returns the reply (tests check refusals too)."""
    return admin.post(ws_path(demo, f"/upgrade/packages/{package_id}/tasks"), body)


def add_whitelist(admin, demo, name: str = "qa", ids: str = "u1,u2") -> str:
    reply = admin.post(ws_path(demo, "/whitelists"), {"name": name, "type": "normal", "ids": ids})
    return reply.body["whitelistId"]


def published_membership(tenant):
    """What a device holds: every whitelist in its published form (salted hashes, sharded)."""
    from chalicelib.domain.whitelists import ShardedMembership, published_shards
    from chalicelib.store import whitelists

    membership = ShardedMembership()
    for whitelist in whitelists.list_for_tenant(tenant):
        membership.add_list(
            whitelist.id,
            whitelist.salt,
            published_shards(whitelist.salt, list(whitelists.read_members(whitelist))),
        )
    return membership


def upgrade_answer(tenant, device) -> dict:
    """The upgrade answer a device gets from the live candidates (the decision the manifests encode)."""
    from chalicelib.domain import answers
    from chalicelib.domain.delivery import decide_each
    from chalicelib.services import upgrade_delivery

    now = int(time.time())
    candidates = upgrade_delivery.candidates(tenant, device.platform, now=now)
    return answers.upgrade(decide_each(candidates, device, published_membership(tenant), now=now), device)


# --- hotpatch -----------------------------------------------------------------------------------


def app_version(admin, demo, version: str = "5.0", platform: str = "ios") -> None:
    """The app version a patch is for: an upgrade package (an App Store link needs no file)."""
    body = {"platform": platform, "version": version}
    if platform == "ios":
        body.update(distribution="appStore", storeUrl="https://apps.apple.com/app/id100")
    else:
        body.update(filename="app.apk")
    reply = admin.post(ws_path(demo, "/upgrade/packages"), body)
    assert reply.status == 201, reply.body


def add_patch(admin, demo, aws, content: bytes, *, filename: str = "fix.js", **extra) -> dict:
    """Create a patch, upload its file, deliver the S3 event; returns the creation reply."""
    body = {"platform": "ios", "appVersion": "5.0", "filename": filename, **extra}
    reply = admin.post(ws_path(demo, "/hotpatch/patches"), body)
    assert reply.status == 201, reply.body
    send_file(aws, reply.body["upload"], content, filename)
    return reply.body


# --- device events ------------------------------------------------------------------------------

_event_ids = itertools.count()


def event(kind: str, release: str, *, at: int | None = None, **extra) -> dict:
    return {
        "id": f"evt-{next(_event_ids):08d}",
        "type": kind,
        "at": at or int(time.time()),
        "release": release,
        **extra,
    }


def batch(demo, device: str, events: list[dict], *, platform="android", version="4.0") -> dict:
    return {"schema": 1, "appId": demo["appId"], "workspaceId": demo["workspaceId"], "platform": platform,
            "deviceId": device, "clientVersion": version, "events": events}  # fmt: skip


def queued_events(aws) -> list[dict]:
    """Take every message off the device-events queue (as the event source would)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = aws.queue_urls["DeviceEventsQueue"]
    found = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return found
        entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)]
        assert not sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed")
        found.extend(got)


def deliver_events(messages: list[dict]) -> None:
    """Call the aggregator exactly as Lambda would, with SQS-shaped events of up to 10 messages."""
    from app import on_device_events

    for start in range(0, len(messages), 10):
        records = [_sqs_record(m, "mds-test-device-events") for m in messages[start : start + 10]]
        on_device_events({"Records": records}, None)


def _sqs_record(message: dict, queue: str) -> dict:
    return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"], "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
            "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
            "awsRegion": "us-east-1"}  # fmt: skip


# --- H5 -----------------------------------------------------------------------------------------

H5 = "12345678"


def h5(demo, suffix: str = "") -> str:
    """The workspace's H5 console path."""
    return ws_path(demo, "/h5" + suffix)


def configure(admin, demo, rsa_pem: bytes) -> str:
    """The vhost and the signing key of the workspace's H5 packages; returns the public key."""
    assert admin.put(h5(demo, "/settings/vhost"), {"vhost": "h5app.com"}).status == 200
    reply = admin.put(h5(demo, "/settings/rsa-key"), {"pem": rsa_pem.decode()})
    assert reply.status == 200, reply.body
    return reply.body["publicKey"]


def zip_bytes(tmp_path, writer=h5_zips.normal, *args, **kwargs) -> bytes:
    return writer(tmp_path / f"z{len(list(tmp_path.iterdir()))}.zip", *args, **kwargs).read_bytes()


def add_resource(admin, demo, aws, content: bytes, *, version="1.0.0.1", h5_id=H5, **fields) -> dict:
    """An H5 version with its zip uploaded and processed; returns it as the console API shows it."""
    body = {
        "version": version,
        "platform": "all",
        "clientVersionMin": "10.1.32;10.2.0",
        "mainUrl": "/www/index.html",
        "resourceType": "normal",
        "filename": "pkg.zip",
        **fields,
    }
    reply = admin.post(h5(demo, f"/apps/{h5_id}/resources"), body)
    assert reply.status == 201, reply.body
    assert reply.body["status"] == "uploading"
    send_file(aws, reply.body["upload"], content, "p.zip")
    return admin.get(h5(demo, f"/resources/{reply.body['id']}")).body


def objects(bucket: str, prefix: str = "h5/") -> list[str]:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def delivery_get(aws, url: str) -> bytes | None:
    """A file of the delivery bucket by its CDN URL (None: absent)."""
    from chalicelib.config import settings

    key = url.split(settings().cdn_base_url + "/", 1)[1]
    s3 = boto3.client("s3", region_name="us-east-1")
    try:
        return s3.get_object(Bucket=aws.buckets["DeliveryBucket"], Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
