"""Device events on moto: POST /client/v1/events → SQS → the aggregator Lambda → reach counters,
exact when every batch arrives twice, out of order, and when SQS redelivers."""

from __future__ import annotations

import itertools
import json
import random
import time

import pytest

from tests.builders import batch, deliver_events, event, queued_events
from tests.conftest import ws_path

_ids = itertools.count()


def test_the_funnel_is_exact_when_every_batch_comes_twice_and_out_of_order(api, admin, demo, aws):
    release = "upgrade-task-12"
    batches = []
    for n in range(6):  # 6 offered, 4 prompted, 3 downloaded, 1 download failure, 2 installed
        device = f"phone-{n}"
        steps = [event("check.answered", release)]
        if n < 4:
            steps.append(event("prompt.shown", release))
        if n < 3:
            steps += [event("download.started", release), event("download.finished", release)]
        if n == 3:
            steps.append(event("download.failed", release, reason="network"))
        if n < 2:
            steps.append(event("install.finished", release))
        # a device sends its events in two batches, the second one before the first
        half = max(1, len(steps) // 2)
        batches += [batch(demo, device, part) for part in (steps[half:], steps[:half]) if part]
    sent = batches + batches  # every batch twice
    random.Random(7).shuffle(sent)
    for body in sent:
        reply = api.post("/client/v1/events", body, token="")
        assert reply.status == 202, reply.body
    messages = queued_events(aws)
    assert len(messages) == len(sent)
    deliver_events(messages)
    deliver_events(messages[:5])  # SQS redelivers some: nothing changes

    reach = admin.get(ws_path(demo, f"/reach/{release}")).body
    assert reach["funnel"] == {"offered": 6, "prompted": 4, "downloadStarted": 3, "downloaded": 3,
                               "downloadFailed": 1, "installed": 2, "installFailed": 0}  # fmt: skip
    assert reach["failures"] == {"download": {"network": 1}, "install": {}}
    assert [row["offered"] for row in reach["byDay"]] == [6]
    assert reach["byClient"] == [{"platform": "android", "clientVersion": "4", **reach["funnel"]}]


def test_config_reach_counts_devices_per_value(api, admin, demo, aws):
    for n, value in enumerate(["true", "true", "false"]):
        body = batch(demo, f"phone-{n}", [event("config.active", "config:feed_v2", value=value)])
        assert api.post("/client/v1/events", body, token="").status == 202
    deliver_events(queued_events(aws))
    reach = admin.get(ws_path(demo, "/reach/config:feed_v2")).body
    assert reach == {"release": "config:feed_v2", "product": "config", "key": "feed_v2",
                     "values": [{"value": "true", "devices": 2}, {"value": "false", "devices": 1}]}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schema": 2}, "schema"),
        ({"platform": "windows"}, "platform"),
        ({"deviceId": ""}, "deviceId"),
        ({"clientVersion": None}, "clientVersion"),
        ({"events": []}, "events"),
        ({"secret": 1}, "secret"),
        (
            {"events": [{"id": "short", "type": "check.answered", "at": 1, "release": "upgrade-task-1"}]},
            "events[0].id",
        ),
        (
            {"events": [{"id": "evt-aaaaaaaa", "type": "hack", "at": 1, "release": "upgrade-task-1"}]},
            "events[0].type",
        ),
        (
            {
                "events": [
                    {"id": "evt-aaaaaaaa", "type": "download.failed", "at": "today", "release": "h5-task-1"}
                ]
            },
            "events[0].at",
        ),
        (
            {"events": [{"id": "evt-aaaaaaaa", "type": "prompt.shown", "release": "h5-task-1"}]},
            "events[0].type",
        ),
        (
            {"events": [{"id": "evt-aaaaaaaa", "type": "check.answered", "release": "task-1"}]},
            "events[0].release",
        ),
    ],
)
def test_a_bad_batch_is_refused_naming_the_field_and_nothing_is_queued(api, demo, aws, change, field):
    body = batch(demo, "phone-1", [event("check.answered", "upgrade-task-1")])
    body.update(change)
    for e in body.get("events") or []:
        e.setdefault("at", int(time.time()))
    reply = api.post("/client/v1/events", body, token="")
    assert reply.status == 400 and reply.body["field"] == field, reply.body
    assert queued_events(aws) == []


def test_failures_need_a_reason_and_ids_are_unique_per_batch(api, demo, aws):
    no_reason = batch(demo, "p", [event("install.failed", "hotpatch-release-3")])
    assert api.post("/client/v1/events", no_reason, token="").body["field"] == "events[0].reason"
    one = event("check.answered", "h5-task-2")
    twice = batch(demo, "p", [one, dict(one)])
    assert api.post("/client/v1/events", twice, token="").body["field"] == "events[1].id"
    stale = batch(demo, "p", [event("check.answered", "h5-task-2", at=int(time.time()) - 40 * 86400)])
    assert api.post("/client/v1/events", stale, token="").body["field"] == "events[0].at"
    assert queued_events(aws) == []


def test_batches_are_rate_limited_per_device(api, demo, aws):
    for _ in range(30):
        body = batch(demo, "chatty", [event("check.answered", "upgrade-task-1")])
        assert api.post("/client/v1/events", body, token="").status == 202
    limited = api.post(
        "/client/v1/events", batch(demo, "chatty", [event("check.answered", "upgrade-task-1")]), token=""
    )
    assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
    other = api.post(
        "/client/v1/events", batch(demo, "quiet", [event("check.answered", "upgrade-task-1")]), token=""
    )
    assert other.status == 202


def test_a_batch_over_64_kb_is_refused(api, demo, aws):
    body = batch(demo, "p", [event("config.active", "config:k", value="x" * 199) for _ in range(50)])
    body["deviceId"] = "d" * 128
    body["events"] = body["events"] * 1
    big = json.dumps(body)
    assert len(big) < 64 * 1024  # 50 events fit
    bigger = batch(demo, "p", [event("download.failed", "h5-task-1", reason="r" * 199) for _ in range(50)])
    bigger["events"][0]["reason"] = "r" * 200
    assert api.post("/client/v1/events", bigger, token="").status == 202
    huge = {**bigger, "events": bigger["events"] * 8}
    reply = api.post("/client/v1/events", huge, token="")
    assert reply.status in (400, 413) and reply.body["field"] in ("events", "body")


def test_reach_is_for_members_of_the_workspace_only(api, admin, demo, aws):
    assert admin.get(ws_path(demo, "/reach/upgrade-task-1")).status == 200
    assert admin.get(ws_path(demo, "/reach/nonsense")).body["field"] == "release"
    assert api.get(ws_path(demo, "/reach/upgrade-task-1"), token="").status == 401
    other = {**demo, "workspaceId": "elsewhere"}
    assert admin.get(ws_path(other, "/reach/upgrade-task-1")).status == 404
