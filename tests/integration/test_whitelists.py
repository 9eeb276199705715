"""Whitelists through the console API on moto: text and file imports, search, regex lists, safety."""

from __future__ import annotations

import concurrent.futures
import json

import boto3
import requests

from tests.builders import deliver_upload_events, receive_upload_events
from tests.conftest import ws_path


def _create(admin, demo, **body):
    body.setdefault("type", "normal")
    return admin.post(ws_path(demo, "/whitelists"), body)


def test_create_with_text_reports_added_duplicates_and_rejected_lines(admin, demo):
    text = "u1, u2\nu2\n\n  u3  \n" + "x" * 129 + "\nbad\x01id\nu1"
    reply = _create(admin, demo, name="QA", ids=text)
    assert reply.status == 201, reply.body
    assert reply.body["count"] == 3 and reply.body["added"] == 3
    assert [(r["line"], r["reason"]) for r in reply.body["rejected"]] == [
        (5, "longer than 128 characters"),
        (6, "contains control characters"),
    ]
    wid = reply.body["whitelistId"]
    assert wid.isdigit()
    again = admin.post(ws_path(demo, f"/whitelists/{wid}/members"), {"ids": "u3,u4"})
    assert (again.body["added"], again.body["alreadyPresent"], again.body["count"]) == (1, 1, 4)
    removed = admin.post(ws_path(demo, f"/whitelists/{wid}/members/remove"), {"ids": "u1\nnope"})
    assert (removed.body["removed"], removed.body["notPresent"], removed.body["count"]) == (1, 1, 3)
    assert admin.get(ws_path(demo, f"/whitelists/{wid}/members/u2")).body["member"] is True
    assert admin.get(ws_path(demo, f"/whitelists/{wid}/members/u1")).body["member"] is False


def test_members_page_and_search(admin, demo):
    ids = "\n".join(f"user{n:03d}" for n in range(250))
    wid = _create(admin, demo, name="big", ids=ids).body["whitelistId"]
    first = admin.get(ws_path(demo, f"/whitelists/{wid}/members?limit=100")).body
    assert first["ids"][0] == "user000" and len(first["ids"]) == 100 and first["count"] == 250
    second = admin.get(
        ws_path(demo, f"/whitelists/{wid}/members?limit=100&cursor={first['nextCursor']}")
    ).body
    assert second["ids"][0] == "user100"
    third = admin.get(
        ws_path(demo, f"/whitelists/{wid}/members?limit=100&cursor={second['nextCursor']}")
    ).body
    assert len(third["ids"]) == 50 and third["nextCursor"] is None
    found = admin.get(ws_path(demo, f"/whitelists/{wid}/members?q=user24")).body["ids"]
    assert found == [f"user{n}" for n in range(240, 250)]


def test_names_are_unique_per_workspace_and_renames_free_the_old_name(admin, demo):
    wid = _create(admin, demo, name="Beta").body["whitelistId"]
    assert _create(admin, demo, name="beta").status == 409
    assert admin.request("PATCH", ws_path(demo, f"/whitelists/{wid}"), {"name": "Gamma"}).status == 200
    assert _create(admin, demo, name="Beta").status == 201
    assert _create(admin, demo, name="gamma").status == 409


def test_regex_lists_validate_patterns(admin, demo):
    ok = _create(admin, demo, name="staff", type="regex", patterns=[r"staff_\d+", r"[a-z]+@corp\.example"])
    assert ok.status == 201, ok.body
    wid = ok.body["whitelistId"]
    assert admin.get(ws_path(demo, f"/whitelists/{wid}/members/staff_42")).body["member"] is True
    assert (
        admin.get(ws_path(demo, f"/whitelists/{wid}/members/staff_42x")).body["member"] is False
    )  # whole ID
    bad = _create(admin, demo, name="r2", type="regex", patterns=["ok", "(unclosed"])
    assert (
        bad.status == 400
        and bad.body["field"] == "patterns[1]"
        and "not a valid regular expression" in bad.body["message"]
    )
    evil = _create(admin, demo, name="r3", type="regex", patterns=[r"(a|aa)+$"])
    assert evil.status == 400 and "catastrophic backtracking" in evil.body["message"]
    many = _create(admin, demo, name="r4", type="regex", patterns=[f"p{n}" for n in range(21)])
    assert many.status == 400 and many.body["field"] == "patterns"
    long = _create(admin, demo, name="r5", type="regex", patterns=["a" * 257])
    assert long.status == 400 and long.body["field"] == "patterns[0]"
    names = [w["name"] for w in admin.get(ws_path(demo, "/whitelists")).body["whitelists"]]
    assert names == ["staff"]  # nothing half-created


def test_import_file_through_presigned_post(admin, demo, aws):
    wid = _create(admin, demo, name="imported", ids="existing").body["whitelistId"]
    token = admin.post(ws_path(demo, f"/whitelists/{wid}/imports"), {"filename": "ids.csv"}).body
    assert token["subject"] == wid
    content = "existing\n" + "\n".join(f"id{n}" for n in range(1000)) + "\n" + "y" * 200 + "\n"
    requests.post(
        token["post"]["url"],
        data=token["post"]["fields"],
        files={"file": ("ids.csv", content.encode())},
        timeout=10,
    )
    deliver_upload_events(receive_upload_events(boto3.client("sqs", region_name="us-east-1"), aws.queue_urls["EventsQueue"]))
    upload = admin.get(ws_path(demo, f"/uploads/{token['uploadId']}")).body
    assert upload["status"] == "processed", upload
    assert upload["result"]["added"] == 1000 and upload["result"]["alreadyPresent"] == 1
    assert upload["result"]["rejected"] == [
        {"line": 1002, "value": "y" * 160, "reason": "longer than 128 characters"}
    ]
    assert admin.get(ws_path(demo, f"/whitelists/{wid}")).body["count"] == 1001
    log = admin.get(ws_path(demo, f"/audit?entityType=whitelist&entityId={wid}")).body["entries"]
    assert log[0]["action"] == "whitelist.import" and log[0]["actor"] == "user:admin"


def test_import_of_a_binary_file_changes_nothing(admin, demo, aws):
    wid = _create(admin, demo, name="bin", ids="a,b").body["whitelistId"]
    token = admin.post(ws_path(demo, f"/whitelists/{wid}/imports"), {"filename": "ids.txt"}).body
    requests.post(
        token["post"]["url"],
        data=token["post"]["fields"],
        files={"file": ("ids.txt", b"\x89PNG\x00\x01")},
        timeout=10,
    )
    deliver_upload_events(receive_upload_events(boto3.client("sqs", region_name="us-east-1"), aws.queue_urls["EventsQueue"]))
    upload = admin.get(ws_path(demo, f"/uploads/{token['uploadId']}")).body
    assert upload["status"] == "failed" and "not a text file" in upload["error"]
    assert admin.get(ws_path(demo, f"/whitelists/{wid}")).body["count"] == 2


def test_concurrent_additions_both_land(aws, demo):
    from chalicelib.domain.access import Principal, PrincipalKind, Role
    from chalicelib.domain.tenancy import TenantId
    from chalicelib.services import whitelists
    from chalicelib.services.context import Call

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    call = Call(Principal(PrincipalKind.USER, "admin", roles={tenant: Role.ADMIN}), request_id="r")
    wid = whitelists.create(call, tenant, name="race", kind="normal")["whitelistId"]
    batches = [",".join(f"t{t}-{n}" for n in range(50)) for t in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda text: whitelists.add_members(call, tenant, wid, text), batches))
    assert whitelists.get(call, tenant, wid)["count"] == 200


def test_viewer_reads_but_cannot_change(admin, demo):
    wid = _create(admin, demo, name="ro", ids="a").body["whitelistId"]
    admin.post(
        ws_path(demo, "/users"), {"username": "viewer2", "password": "a-long-password", "role": "viewer"}
    )
    token = admin.login("viewer2", "a-long-password")
    assert admin.get(ws_path(demo, f"/whitelists/{wid}"), token=token).status == 200
    assert admin.post(ws_path(demo, f"/whitelists/{wid}/members"), {"ids": "b"}, token=token).status == 403
    assert admin.delete(ws_path(demo, f"/whitelists/{wid}"), token=token).status == 403


def test_delete_and_usage_guard(admin, demo):
    from chalicelib.services import whitelists

    wid = _create(admin, demo, name="doomed", ids="a").body["whitelistId"]
    guard = lambda tenant, whitelist_id: ["task 7 (gray)"] if whitelist_id == wid else []  # noqa: E731
    whitelists.USAGE_CHECKS.append(guard)
    try:
        blocked = admin.delete(ws_path(demo, f"/whitelists/{wid}"))
        assert blocked.status == 409 and "task 7 (gray)" in blocked.body["message"]
    finally:
        whitelists.USAGE_CHECKS.remove(guard)
    assert admin.delete(ws_path(demo, f"/whitelists/{wid}")).status == 204
    assert admin.get(ws_path(demo, f"/whitelists/{wid}")).status == 404
    assert _create(admin, demo, name="doomed").status == 201  # the name is free again


def test_published_shards_hold_no_raw_ids():
    from chalicelib.domain.whitelists import member_hash, published_shards, shard_of

    ids = [f"user{n}" for n in range(1000)]
    shards = published_shards("salt1", ids)
    blob = json.dumps(shards)
    assert len(shards) == 256 and "user1" not in blob
    h = member_hash("salt1", "user42")
    assert h[2:] in shards[shard_of(h)]
    assert member_hash("salt2", "user42") != h  # a new salt changes every hash
