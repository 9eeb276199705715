"""Uploads on moto: presigned POST → S3 → SQS → the same handler Lambda calls, exactly once."""

from __future__ import annotations

import json

import requests

from tests.builders import deliver_upload_events, receive_upload_events
from tests.conftest import ws_path


def test_upload_round_trip(admin, demo, aws):
    import boto3

    reply = admin.post(ws_path(demo, "/uploads"), {"purpose": "icon", "filename": "icon.png"})
    assert reply.status == 201, reply.body
    token = reply.body
    assert token["status"] == "pending"
    files = {"file": ("icon.png", b"u1\nu2\n")}
    posted = requests.post(token["post"]["url"], data=token["post"]["fields"], files=files, timeout=10)
    assert posted.status_code in (200, 204), posted.text

    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = receive_upload_events(sqs, aws.queue_urls["EventsQueue"])
    assert len(messages) == 1
    deliver_upload_events(messages)
    deliver_upload_events(messages)  # SQS is at-least-once: a redelivery changes nothing

    status = admin.get(ws_path(demo, f"/uploads/{token['uploadId']}")).body
    assert status["status"] == "received"
    assert status["size"] == 6


def test_upload_policy_pins_key_and_size(admin, demo, aws):
    """S3 enforces the POST policy (moto does not), so check the policy we sign says the right thing."""
    import base64

    token = admin.post(ws_path(demo, "/uploads"), {"purpose": "rsa-key", "filename": "key.pem"}).body
    policy = json.loads(base64.b64decode(token["post"]["fields"]["policy"]))
    assert ["content-length-range", 1, 64 * 1024] in policy["conditions"]
    assert {"key": token["objectKey"]} in policy["conditions"]
    assert token["objectKey"] == f"uploads/DEMO_APP/default/{token['uploadId']}/key.pem"


def test_oversized_object_written_around_the_policy_is_marked_failed(admin, demo, aws):
    token = admin.post(ws_path(demo, "/uploads"), {"purpose": "rsa-key", "filename": "key.pem"}).body
    body = {
        "Records": [
            {"eventTime": "t", "s3": {"object": {"key": token["objectKey"], "size": 10**6, "eTag": "e"}}}
        ]
    }
    deliver_upload_events([{"MessageId": "1", "ReceiptHandle": "r", "Body": json.dumps(body)}])
    status = admin.get(ws_path(demo, f"/uploads/{token['uploadId']}")).body
    assert status["status"] == "failed" and "limit" in status["error"]


def test_bad_upload_requests_name_the_field(admin, demo):
    bad = admin.post(ws_path(demo, "/uploads"), {"purpose": "movie", "filename": "a.mp4"})
    assert bad.status == 400 and bad.body["field"] == "purpose"
    bad = admin.post(ws_path(demo, "/uploads"), {"purpose": "icon", "filename": "../etc/passwd.png"})
    assert bad.status == 400 and bad.body["field"] == "filename"
    bad = admin.post(ws_path(demo, "/uploads"), {"purpose": "icon", "filename": "icon.exe"})
    assert bad.status == 400 and "must end with" in bad.body["message"]
    bad = admin.post(ws_path(demo, "/uploads"), {"purpose": "whitelist", "filename": "ids.txt"})
    assert bad.status == 400 and "whitelist import endpoint" in bad.body["message"]


def test_events_for_unknown_objects_are_ignored_and_garbage_raises(aws):
    import pytest

    body = {
        "Records": [
            {"eventTime": "t", "s3": {"object": {"key": "uploads/A/w/nope/x.txt", "size": 1, "eTag": "e"}}}
        ]
    }
    deliver_upload_events([{"MessageId": "1", "ReceiptHandle": "r", "Body": json.dumps(body)}])  # no error: nothing to do
    with pytest.raises(ValueError):
        deliver_upload_events([{"MessageId": "2", "ReceiptHandle": "r", "Body": "not json"}])


def test_a_processor_that_fails_transiently_is_retried_on_redelivery(admin, demo, aws, monkeypatch):
    """A crash inside processing (not a bad file) must not leave the upload stuck as "received"."""
    import boto3

    from chalicelib.services import uploads

    calls = []

    def flaky(record):
        calls.append(record.upload_id)
        if len(calls) == 1:
            raise ConnectionError("S3 hiccup")
        return {"ok": True}

    monkeypatch.setitem(uploads.PROCESSORS, "icon", flaky)
    token = admin.post(ws_path(demo, "/uploads"), {"purpose": "icon", "filename": "icon.png"}).body
    requests.post(
        token["post"]["url"], data=token["post"]["fields"], files={"file": ("icon.png", b"png")}, timeout=10
    )
    messages = receive_upload_events(boto3.client("sqs", region_name="us-east-1"), aws.queue_urls["EventsQueue"])
    import pytest

    with pytest.raises(ConnectionError):
        deliver_upload_events(messages)  # the handler raises: SQS will deliver the message again
    assert admin.get(ws_path(demo, f"/uploads/{token['uploadId']}")).body["status"] == "received"
    deliver_upload_events(messages)
    deliver_upload_events(messages)  # a third delivery finds it processed and does nothing
    status = admin.get(ws_path(demo, f"/uploads/{token['uploadId']}")).body
    assert (status["status"], status["result"], len(calls)) == ("processed", {"ok": True}, 2)
