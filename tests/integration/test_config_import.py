"""Importing and exporting switch configuration on moto: skipped keys, invalid items, all-or-nothing
imports (also across several transactions), uploads through presigned POST, and the round trip."""

from __future__ import annotations

import json
import threading
import time
import uuid

import boto3
import pytest
import requests

from tests.builders import deliver_upload_events, receive_upload_events
from tests.conftest import ws_path

THREE = [
    {"key": "feed_v2", "type": "boolean", "platform": "android", "value": "false", "note": "new feed"},
    {"key": "banner.text", "type": "string", "value": "Hello",
     "targetedValues": [{"value": "你好", "rules": [{"type": "city", "operation": 1, "values": ["Shanghai"]}]}]},
    {"key": "limits", "type": "json", "platform": "ios", "value": {"max": 3, "names": ["a", "b"]}},
]  # fmt: skip


def import_body(admin, demo, body):
    return admin.post(ws_path(demo, "/config/import"), body)


def keys(admin, demo) -> list[str]:
    return [i["key"] for i in admin.get(ws_path(demo, "/config/items?pageSize=500")).body["items"]]


def test_existing_keys_are_skipped_and_listed(admin, demo):
    assert (
        admin.post(ws_path(demo, "/config/items"), {"key": "feed_v2", "type": "string", "value": "x"}).status
        == 201
    )
    reply = import_body(admin, demo, {"items": THREE})
    assert reply.status == 200, reply.body
    assert reply.body["imported"] == ["banner.text", "limits"] and reply.body["skipped"] == ["feed_v2"]
    assert admin.get(ws_path(demo, "/config/items/feed_v2")).body["type"] == "string"  # untouched
    limits = admin.get(ws_path(demo, "/config/items/limits")).body
    assert json.loads(limits["value"]) == {"max": 3, "names": ["a", "b"]} and limits["importId"]
    history = admin.get(ws_path(demo, "/config/items/limits/history")).body["versions"]
    assert [v["action"] for v in history] == ["import"]


def test_an_invalid_item_stops_the_import_naming_index_and_field(admin, demo):
    broken = [*THREE, {"key": "n", "type": "number", "value": "twelve"}, {"key": "bad key", "type": "string"}]
    reply = import_body(admin, demo, {"items": broken})
    assert reply.status == 400 and reply.body["field"] == "items[3].value"
    assert "1 more invalid items" in reply.body["message"] and "nothing was imported" in reply.body["message"]
    assert keys(admin, demo) == []
    twice = import_body(admin, demo, {"items": [THREE[0], THREE[0]]})
    assert twice.status == 400 and twice.body["field"] == "items[1].key"


def test_skip_invalid_reports_them_and_imports_the_valid_rest(admin, demo):
    broken = [THREE[0], {"key": "n", "type": "number", "value": "twelve"}, THREE[1],
              {"key": "p", "type": "string", "value": "x", "targetedValues": [{"value": "y", "rollout": {"percent": 101}}]}]  # fmt: skip
    reply = import_body(admin, demo, {"items": broken, "skipInvalid": True})
    assert reply.status == 200
    assert reply.body["invalid"] == [
        {"index": 1, "field": "items[1].value", "rule": "must be a number, e.g. 42 or 0.5 (the item's type is number)"},
        {"index": 3, "field": "items[3].targetedValues[0].rollout.percent",
         "rule": "must be a number from 0 to 100 with at most two decimals"},
    ]  # fmt: skip
    assert reply.body["imported"] == ["feed_v2", "banner.text"]


def test_ten_thousand_items_with_one_broken_in_the_middle_import_nothing(admin, demo):
    from chalicelib.domain.access import Principal, PrincipalKind, Role
    from chalicelib.domain.errors import ValidationError
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import config_items
    from chalicelib.services.context import Call

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    call = Call(Principal(PrincipalKind.USER, "admin", roles={tenant: Role.ADMIN}), request_id="t")
    items = [{"key": f"k{n:05d}", "type": "number", "value": n} for n in range(10_000)]
    items[5123]["value"] = "12 apples"
    raw = json.dumps({"items": items})
    with pytest.raises(ValidationError) as caught:
        config_items.import_text(call, tenant, raw)
    assert caught.value.field == "items[5123].value" and "nothing was imported" in caught.value.message
    assert keys(admin, demo) == []
    with pytest.raises(ValidationError) as not_json:
        config_items.import_text(call, tenant, b"key=value\n")
    assert not_json.value.field == "file"
    with pytest.raises(ValidationError) as too_many:
        config_items.import_text(
            call, tenant, json.dumps([{"key": "a", "type": "string", "value": "x"}] * 10_001)
        )
    assert too_many.value.field == "items"


def test_export_then_import_elsewhere_gives_identical_items(admin, demo):
    wid = admin.post(ws_path(demo, "/whitelists"), {"name": "qa", "type": "normal", "ids": "alice"}).body[
        "whitelistId"
    ]
    items = [*THREE, {"key": "vip", "type": "number", "value": 1, "targetedValues": [
        {"value": 2, "whitelistIds": [wid]},
        {"value": 3, "platform": "android", "clientVersions": [{"min": "10.0"}], "rollout": {"percent": 12.5}},
    ]}, {"key": "off", "type": "string", "value": "x", "active": False}]  # fmt: skip
    assert import_body(admin, demo, {"items": items}).status == 200
    exported = admin.get(ws_path(demo, "/config/export")).body
    assert [i["key"] for i in exported["items"]] == ["banner.text", "feed_v2", "limits", "off", "vip"]

    other = {"appId": demo["appId"], "workspaceId": "staging"}
    assert admin.post("/api/workspaces", {**other, "name": "staging"}).status == 201
    # the whitelist is referenced by ID: the other workspace needs one with the same ID
    assert (
        admin.post(ws_path(other, "/whitelists"), {"name": "qa", "type": "normal", "ids": "alice"}).body[
            "whitelistId"
        ]
        == wid
    )
    assert import_body(admin, other, exported).body["imported"] == [i["key"] for i in exported["items"]]
    assert admin.get(ws_path(other, "/config/export")).body == exported
    assert import_body(admin, other, exported).body["skipped"] == [i["key"] for i in exported["items"]]


def test_import_through_a_presigned_upload(admin, demo, aws):
    token = admin.post(ws_path(demo, "/config/import-uploads"), {"filename": "config.json"})
    assert token.status == 201, token.body
    posted = requests.post(token.body["post"]["url"], data=token.body["post"]["fields"],
                           files={"file": ("config.json", json.dumps({"items": THREE}).encode())}, timeout=10)  # fmt: skip
    assert posted.status_code in (200, 204)
    deliver_upload_events(receive_upload_events(boto3.client("sqs", region_name="us-east-1"), aws.queue_urls["EventsQueue"]))
    upload = admin.get(ws_path(demo, f"/uploads/{token.body['uploadId']}")).body
    assert upload["status"] == "processed", upload
    assert upload["result"]["imported"] == ["feed_v2", "banner.text", "limits"]

    bad = admin.post(ws_path(demo, "/config/import-uploads"), {"filename": "broken.json"}).body
    requests.post(
        bad["post"]["url"], data=bad["post"]["fields"], files={"file": ("broken.json", b"{oops")}, timeout=10
    )
    deliver_upload_events(receive_upload_events(boto3.client("sqs", region_name="us-east-1"), aws.queue_urls["EventsQueue"]))
    failed = admin.get(ws_path(demo, f"/uploads/{bad['uploadId']}")).body
    assert failed["status"] == "failed" and "must be a JSON document" in failed["error"]
    assert (
        admin.post(ws_path(demo, "/config/import-uploads"), {"filename": "config.txt"}).body["field"]
        == "filename"
    )


def test_a_failure_in_a_later_transaction_removes_what_the_import_wrote(admin, demo):
    """200 items take 5 transactions. While the import runs, someone adds its last key: the last
    transaction fails on that key, and the compensating delete removes the 180 items already written."""
    from chalicelib.domain.access import Principal, PrincipalKind, Role
    from chalicelib.domain.errors import Conflict
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import config_items
    from chalicelib.services.context import Call
    from chalicelib.store import config_items as store

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    call = Call(
        Principal(PrincipalKind.USER, "admin", roles={tenant: Role.ADMIN}), request_id=uuid.uuid4().hex
    )
    items = [{"key": f"bulk{n:04d}", "type": "string", "value": f"v{n}"} for n in range(200)]
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = config_items.import_items(call, tenant, {"items": items})
        except Conflict as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    while not store.keys(tenant) and worker.is_alive():
        time.sleep(0.005)  # until the first transaction has landed
    config_items.create(call, tenant, {"key": "bulk0199", "type": "string", "value": "mine"})
    worker.join()
    assert "bulk0199 already exists" in str(outcome.get("error")), outcome
    assert store.keys(tenant) == {"bulk0199"}  # nothing of the import is left
    assert store.history(tenant, "bulk0000") == []
    undone = admin.get(ws_path(demo, "/audit?entityType=config_import")).body["entries"]
    assert [e["action"] for e in undone].count("config.import.undone") == 1
