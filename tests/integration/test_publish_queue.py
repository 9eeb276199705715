"""Publishing after the commit, off the request path (services/publishing.py): in ``queued`` mode (Lambda,
`make run`) a console write answers without publishing and the publish worker publishes, coalesced;
a publication that fails after the commit never turns the answer into an error, and the worker
publishes it once the failure is gone. The worker is the local stack's real SQS worker, on moto."""

from __future__ import annotations

import uuid

import boto3
import pytest

from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId
from tests.builders import add_task
from tests.conftest import ws_path
from tests.delivery_harness import BucketCdn, ChaliceApi

IPHONE_4 = Device(platform=Platform.IOS, client_version="4.0", user_id="u1", device_id="d1")


def _mode(monkeypatch, mode: str) -> None:
    from chalicelib import config

    monkeypatch.setenv("MDS_PUBLISH_MODE", mode)
    config.reload()


def _store_package(admin, demo) -> str:
    body = {"platform": "ios", "distribution": "appStore", "version": "5.0",
            "storeUrl": "https://apps.apple.com/app/id1"}  # fmt: skip
    reply = admin.post(ws_path(demo, "/upgrade/packages"), body)
    assert reply.status == 201, reply.body
    return reply.body["packageId"]


def _published(admin, demo) -> dict:
    reply = admin.get(ws_path(demo, "/delivery/upgrade/ios"))
    assert reply.status == 200, reply.body
    return reply.body


def _publish_worker(aws):
    """The local stack's worker for the publish queue, polling without waits or visibility delay. The
    queue comes from this test's resources, not from the queue name ``app`` was imported with (another
    test of this process may have imported it under another stack)."""
    from app import app
    from mds.local.worker import SqsWorker

    return SqsWorker(
        boto3.client("sqs", region_name="us-east-1"), queue_url=aws.queue_urls["PublishQueue"],
        queue_arn=aws.queue_arns["PublishQueue"], handler=app.handler_map["on_publish"],
        function_name="on_publish", batch_size=10, visibility_timeout=0, wait_seconds=0,
    )  # fmt: skip


def _queued(aws) -> int:
    attributes = boto3.client("sqs", region_name="us-east-1").get_queue_attributes(
        QueueUrl=aws.queue_urls["PublishQueue"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def _offered(demo, client, tmp_path) -> int:
    """The resultStatus an iPhone on 4.0 computes from the CDN manifests (signature verified)."""
    from chalicelib.services import signing_keys
    from mds.device.client import DeviceClient

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    phone = DeviceClient(
        "http://cdn", "http://api", app_id=tenant.app_id, workspace_id=tenant.workspace_id,
        public_keys=signing_keys.public_keys(tenant), state_dir=tmp_path / uuid.uuid4().hex,
        transport=BucketCdn(), api_transport=ChaliceApi(client),
    )  # fmt: skip
    return phone.check("upgrade", IPHONE_4).answer.get("resultStatus")


def test_a_queued_write_answers_before_publishing_and_the_worker_publishes_it(
    admin, demo, aws, client, tmp_path, monkeypatch
):
    _mode(monkeypatch, "queued")
    package = _store_package(admin, demo)
    task = add_task(admin, demo, package, type="official", mode="forced")
    assert task.status == 201, task.body

    before = _published(admin, demo)
    assert before["pending"] is True and before["sequence"] == 0  # committed, not published by the request
    assert _offered(demo, client, tmp_path) == 201  # no upgrade

    worker = _publish_worker(aws)
    assert worker.poll_once() >= 1
    after = _published(admin, demo)
    assert after["pending"] is False and after["sequence"] >= 1
    assert _offered(demo, client, tmp_path) == 206
    assert _queued(aws) == 0  # the worker deleted what it delivered


def test_a_burst_of_changes_costs_one_publication_per_batch(admin, demo, aws, monkeypatch):
    _mode(monkeypatch, "queued")
    task_id = add_task(admin, demo, _store_package(admin, demo), type="official", mode="forced").body[
        "taskId"
    ]
    worker = _publish_worker(aws)
    while worker.poll_once():
        pass
    first = _published(admin, demo)["sequence"]

    status = ws_path(demo, f"/upgrade/tasks/{task_id}/status")
    for action in ("pause", "continue", "pause", "continue", "pause"):
        assert admin.post(status, {"action": action}).status == 200
    assert _queued(aws) == 5 and _published(admin, demo)["sequence"] == first

    assert worker.poll_once() == 5  # one batch
    assert _published(admin, demo)["sequence"] == first + 1  # five changes, one new index
    assert _queued(aws) == 0


@pytest.mark.parametrize("mode", ["inline", "queued"])
def test_a_failed_publication_after_the_commit_answers_success_and_the_worker_republishes(
    admin, demo, aws, client, tmp_path, monkeypatch, mode
):
    _mode(monkeypatch, mode)
    task_id = add_task(admin, demo, _store_package(admin, demo), type="official", mode="forced").body[
        "taskId"
    ]
    worker = _publish_worker(aws)
    while worker.poll_once():
        pass
    assert _offered(demo, client, tmp_path) == 206
    published = _published(admin, demo)["sequence"]

    # The delivery bucket is unreachable (a real S3 NoSuchBucket on every write) while the task is ended.
    bucket = aws.buckets["DeliveryBucket"]
    monkeypatch.setenv("MDS_DELIVERY_BUCKET", "nowhere-to-publish")
    _mode(monkeypatch, mode)
    ended = admin.post(ws_path(demo, f"/upgrade/tasks/{task_id}/status"), {"action": "end"})
    assert ended.status == 200, ended.body  # the change is committed: no 500 for a publish problem
    assert admin.get(ws_path(demo, "/upgrade/tasks")).body["tasks"][0]["status"] == "ended"
    assert worker.poll_once() == 1  # the worker's try fails too: the message stays for the next
    assert _queued(aws) == 1
    state = _published(admin, demo)
    assert state["pending"] is True and state["sequence"] == published

    monkeypatch.setenv("MDS_DELIVERY_BUCKET", bucket)
    _mode(monkeypatch, mode)
    assert _offered(demo, client, tmp_path) == 206  # devices still see the last publication
    assert worker.poll_once() == 1
    state = _published(admin, demo)
    assert state["pending"] is False and state["sequence"] > published
    assert _offered(demo, client, tmp_path) == 201  # the ended task is gone from the manifests
    assert _queued(aws) == 0


def test_a_message_already_covered_by_a_publication_publishes_nothing(admin, demo, aws, monkeypatch):
    _mode(monkeypatch, "queued")
    add_task(admin, demo, _store_package(admin, demo), type="official", mode="forced")
    from chalicelib.services import publishing

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    sequence = publishing.publish(tenant, Platform.IOS)  # e.g. the reconciler got there first
    assert sequence is not None and _published(admin, demo)["pending"] is False
    assert _publish_worker(aws).poll_once() == 2  # the package's message and the task's
    assert _published(admin, demo)["sequence"] == sequence


def test_the_publish_mode_is_checked(monkeypatch):
    from chalicelib import config

    monkeypatch.setenv("MDS_PUBLISH_MODE", "eager")
    with pytest.raises(ValueError, match="MDS_PUBLISH_MODE must be one of queued, inline"):
        config.reload()
    monkeypatch.delenv("MDS_PUBLISH_MODE")
    assert config.reload().publish_mode == "queued"  # what Lambda and `make run` get


def test_an_inline_write_answers_once_a_publication_carries_it_while_another_publisher_is_at_work(
    admin, demo, client, tmp_path, monkeypatch
):
    """In ``inline`` mode (the test stacks) the answer means "published": when another publisher holds the
    lease (the upload worker, the reconciler), the request waits for a publication that carries its change
    instead of answering while the CDN still shows the state before it."""
    import threading
    import time

    from chalicelib.store import delivery as store
    from tests.builders import wait_for

    _mode(monkeypatch, "inline")
    package = _store_package(admin, demo)
    tenant = TenantId(demo["appId"], demo["workspaceId"])
    assert store.try_lock(tenant, "ios", now=time.time(), hold_seconds=30)  # another publisher at work
    answered: dict = {}
    writer = threading.Thread(
        target=lambda: answered.update(reply=add_task(admin, demo, package, type="official", mode="forced"))
    )
    writer.start()
    wait_for(lambda: store.get_state(tenant, "ios").dirty)  # committed, and marked for the lease holder
    store.unlock(tenant, "ios")  # the other publisher ends its round without this change
    writer.join()
    assert answered["reply"].status == 201, answered["reply"].body
    assert _published(admin, demo)["pending"] is False
    assert _offered(demo, client, tmp_path) == 206  # visible on the CDN when the write answered
