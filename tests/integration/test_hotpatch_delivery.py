"""Hotpatch releases as devices see them: the reference client reads the signed manifests (served from
the delivery bucket as the CDN does), verifies and applies patches, honours rollback; device reports,
counted once, rate-limited, and the guardrail that pauses a release on its own."""

from __future__ import annotations

import uuid

import pytest

from chalicelib.domain.targeting import Device, Platform
from chalicelib.domain.tenancy import TenantId
from mds.device.client import DeviceClient
from mds.device.hotpatch import HotpatchClient
from tests.builders import add_patch, app_version
from tests.conftest import ws_path
from tests.delivery_harness import BucketCdn, ChaliceApi

REPORT = "/client/v1/hotpatch/report"


def _tenant(demo) -> TenantId:
    return TenantId(demo["appId"], demo["workspaceId"])


def _phone(client, demo, tmp_path, admin, *, tamper=None, file_tamper=None) -> HotpatchClient:
    from chalicelib.services import signing_keys

    tenant = _tenant(demo)
    state = tmp_path / uuid.uuid4().hex
    checker = DeviceClient(
        "http://cdn", "http://api", app_id=tenant.app_id, workspace_id=tenant.workspace_id,
        public_keys=signing_keys.public_keys(tenant), state_dir=state, transport=BucketCdn(tamper),
        api_transport=ChaliceApi(client),
    )  # fmt: skip
    keys = admin.get(ws_path(demo, "/hotpatch/keys")).body
    pinned = {keys["mds"]["keyId"]: keys["mds"]["publicKey"]}
    return HotpatchClient(
        checker, cdn_url="http://cdn", api_url="http://api", app_id=tenant.app_id,
        workspace_id=tenant.workspace_id, patch_keys=pinned, state_dir=state,
        transport=BucketCdn(file_tamper), api_transport=ChaliceApi(client),
    )  # fmt: skip


def _ready_patch(admin, demo, aws, content: bytes) -> str:
    patch_id = add_patch(admin, demo, aws, content)["patchId"]
    assert admin.get(ws_path(demo, f"/hotpatch/patches/{patch_id}")).body["status"] == "ready"
    return patch_id


def _release(admin, demo, patch_id: str, **body) -> dict:
    reply = admin.post(ws_path(demo, f"/hotpatch/patches/{patch_id}/releases"), body)
    assert reply.status == 201, reply.body
    return reply.body


def _whitelist(admin, demo, ids: str) -> str:
    reply = admin.post(
        ws_path(demo, "/whitelists"), {"name": f"qa-{uuid.uuid4().hex[:6]}", "type": "normal", "ids": ids}
    )
    assert reply.status == 201, reply.body
    return reply.body["whitelistId"]


ALICE = Device(Platform.IOS, user_id="alice", device_id="d-alice", client_version="5.0")
BOB = Device(Platform.IOS, user_id="bob", device_id="d-bob", client_version="5.0")


def test_gray_official_and_rollback_reach_devices_even_with_stale_manifests(
    client, admin, demo, aws, tmp_path
):
    """PRODUCT.md story 8, after a whitelist gray: P1 gray then official, P2 official, P2 rolled back →
    both devices are back on P1, and neither an old answer nor a stale index brings P2 back."""
    app_version(admin, demo, "5.0")
    app_version(admin, demo, "5.1")
    qa = _whitelist(admin, demo, "alice")
    stale_index: dict[str, bytes] = {}

    def cdn(path: str, body: bytes) -> bytes:  # plays a CDN edge serving an old index when asked to
        return stale_index.get("body", body) if path.endswith("index.json") else body

    alice, bob = _phone(client, demo, tmp_path, admin, tamper=cdn), _phone(client, demo, tmp_path, admin)

    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    gray = _release(admin, demo, p1, type="gray", whitelistIds=[qa])
    assert gray["clientVersions"] == [
        {"min": "5.0", "max": "5.0", "minInclusive": True, "maxInclusive": True}
    ]
    synced = alice.sync(ALICE)
    assert synced.applied == p1 and synced.actions == [f"applied {p1}"] and synced.static
    assert alice.patch_file(ALICE).read_bytes() == b"fix-1"
    assert bob.sync(BOB).applied is None  # not whitelisted: does not see it
    other_version = Device(Platform.IOS, user_id="alice", device_id="d-a2", client_version="5.1")
    assert alice.sync(other_version).applied is None  # a patch is for its app version only

    _release(admin, demo, p1, type="official")
    assert bob.sync(BOB).applied == p1
    assert alice.sync(ALICE).actions == []  # already on P1

    p2 = _ready_patch(admin, demo, aws, b"fix-2")
    _release(admin, demo, p2, type="official")
    before_rollback = alice.sync(ALICE)
    assert before_rollback.applied == p2 and before_rollback.answer["revoked"] == []
    assert bob.sync(BOB).applied == p2
    stale_answer = before_rollback.answer
    from chalicelib.manifests.publisher import index_path
    from chalicelib.store import delivery as store

    old_index = store.get_file(index_path(_tenant(demo), Platform.IOS))  # lists P2, no rollback
    assert old_index is not None

    rolled = admin.post(ws_path(demo, f"/hotpatch/patches/{p2}/rollback"))
    assert rolled.status == 200, rolled.body
    assert rolled.body["status"] == "rolledBack" and rolled.body["devicesNowGet"] == p1
    assert rolled.body["rollbackSeq"] == 1 and len(rolled.body["endedReleaseIds"]) == 1

    back = alice.sync(ALICE)
    assert back.actions == [f"removed {p2}", f"applied {p1}"] and back.applied == p1
    assert back.answer["revoked"] == [p2] and back.answer["rollbackSeq"] == 1
    assert alice.patch_file(ALICE).read_bytes() == b"fix-1"
    assert bob.sync(BOB).applied == p1
    # an old answer (e.g. a cached manifest) naming P2 is ignored: P2 is in the revoked set
    assert alice.apply_answer(stale_answer, ALICE).applied == p1
    # a stale index from the CDN is refused (lower sequence) and the last good one is used instead
    stale_index["body"] = old_index
    stale = alice.sync(ALICE, report=False)
    assert stale.stale and stale.applied == p1
    stale_index.clear()

    # rollback bad input: twice, and a patch never released
    again = admin.post(ws_path(demo, f"/hotpatch/patches/{p2}/rollback"))
    assert again.status == 409 and "already rolled back" in again.body["message"]
    never = _ready_patch(admin, demo, aws, b"fix-4")
    nothing = admin.post(ws_path(demo, f"/hotpatch/patches/{never}/rollback"))
    assert nothing.status == 409 and "nothing to roll back" in nothing.body["message"]
    assert admin.post(ws_path(demo, f"/hotpatch/patches/{p2}/releases"), {"type": "official"}).status == 409


def test_rolling_back_the_only_patch_leaves_devices_with_none(client, admin, demo, aws, tmp_path):
    app_version(admin, demo, "5.0")
    bob = _phone(client, demo, tmp_path, admin)
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    _release(admin, demo, p1, type="official")
    assert bob.sync(BOB).applied == p1
    rolled = admin.post(ws_path(demo, f"/hotpatch/patches/{p1}/rollback")).body
    assert rolled["devicesNowGet"] is None
    back = bob.sync(BOB)
    assert back.applied is None and back.actions == [f"removed {p1}"] and back.answer["patchId"] is None
    assert back.answer["revoked"] == [p1]
    log = admin.get(ws_path(demo, f"/audit?entityType=hotpatch_patch&entityId={p1}")).body["entries"]
    assert log[0]["action"] == "hotpatch.patch.rollback" and log[0]["after"]["rollbackSeq"] == 1


def test_pausing_stops_delivery_but_keeps_the_patch_on_devices(client, admin, demo, aws, tmp_path):
    app_version(admin, demo, "5.0")
    alice, bob = _phone(client, demo, tmp_path, admin), _phone(client, demo, tmp_path, admin)
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    release = _release(admin, demo, p1, type="official")["releaseId"]
    assert alice.sync(ALICE).applied == p1
    status = ws_path(demo, f"/hotpatch/releases/{release}/status")
    assert admin.post(status, {"action": "pause"}).body["status"] == "paused"
    assert bob.sync(BOB).applied is None  # new devices no longer get it
    assert alice.sync(ALICE).applied == p1  # devices that applied it keep it
    assert admin.post(status, {"action": "continue"}).body["status"] == "running"
    assert bob.sync(BOB).applied == p1
    assert admin.post(status, {"action": "end"}).body["status"] == "ended"
    refused = admin.post(status, {"action": "resume"})
    assert refused.status == 409 and "ended" in refused.body["message"]


def test_a_tampered_patch_file_is_not_applied_and_reported_failed(client, admin, demo, aws, tmp_path):
    app_version(admin, demo, "5.0")
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    release = _release(admin, demo, p1, type="official")["releaseId"]
    phone = _phone(client, demo, tmp_path, admin, file_tamper=lambda path, body: b"evil!")
    result = phone.sync(ALICE)
    assert result.applied is None and result.actions[0].startswith(f"refused {p1}: the file is not the one")
    shown = admin.get(ws_path(demo, f"/hotpatch/releases/{release}")).body
    assert shown["reports"] == {"applied": 0, "failed": 1, "total": 1}


def _report(api, demo, device: str, patch_id: str, outcome: str = "applied", **extra):
    body = {
        "appId": demo["appId"],
        "workspaceId": demo["workspaceId"],
        "deviceId": device,
        "patchId": patch_id,
        "outcome": outcome,
        **extra,
    }
    return api.post(REPORT, body, token="")


def test_reports_count_once_per_device_and_the_guardrail_pauses_the_release(
    client, admin, demo, aws, tmp_path
):
    app_version(admin, demo, "5.0")
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    release = _release(admin, demo, p1, type="official", guardrail={"failurePercent": 5, "minReports": 20})
    assert release["guardrail"] == {"failurePercent": 5, "minReports": 20}
    rid = release["releaseId"]
    for n in range(18):
        assert _report(admin, demo, f"dev-{n}", p1, releaseId=rid).body == {"counted": True, "paused": False}
    failed = _report(admin, demo, "dev-x", p1, "failed", releaseId=rid, reason="NoSuchMethodError in Feed")
    assert failed.body == {"counted": True, "paused": False}  # 1 of 19: below the minimum of 20 reports
    repeat = _report(admin, demo, "dev-x", p1, "failed", releaseId=rid, reason="again")
    assert repeat.status == 200 and repeat.body == {"counted": False, "paused": False}
    tripping = _report(admin, demo, "dev-y", p1, "failed", releaseId=rid, reason="crash on start")
    assert tripping.body == {"counted": True, "paused": True}  # 2 of 20 = 10% >= 5%

    shown = admin.get(ws_path(demo, f"/hotpatch/releases/{rid}")).body
    assert shown["status"] == "paused" and shown["reports"] == {"applied": 18, "failed": 2, "total": 20}
    assert shown["pausedReason"].startswith("guardrail: 2 of 20 reports failed (10%)")
    patch = admin.get(ws_path(demo, f"/hotpatch/patches/{p1}")).body
    assert patch["reports"] == {"applied": 18, "failed": 2, "total": 20}
    log = admin.get(ws_path(demo, f"/audit?entityType=hotpatch_release&entityId={rid}")).body["entries"]
    assert (log[0]["action"], log[0]["actor"]) == ("hotpatch.release.pause", "system:guardrail")
    assert "threshold 5% after 20 reports" in log[0]["detail"]
    # paused: devices no longer get it
    assert _phone(client, demo, tmp_path, admin).sync(BOB, report=False).applied is None
    # more failures do nothing new; a person can continue it (and it would trip again on the next report)
    assert _report(admin, demo, "dev-z", p1, "failed", releaseId=rid, reason="x").body["paused"] is False


def test_report_floods_and_bad_reports_are_refused(admin, demo, aws):
    app_version(admin, demo, "5.0")
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    p2 = _ready_patch(admin, demo, aws, b"fix-2")
    r2 = _release(admin, demo, p2, type="official")["releaseId"]
    for body, status, field in (
        ({"outcome": "maybe"}, 400, "outcome"),
        ({"outcome": "failed"}, 400, "reason"),
        ({"reason": "fine"}, 400, "reason"),
        ({"patchId": "999"}, 404, None),
        ({"patchId": "abc"}, 400, "patchId"),
        ({"releaseId": r2}, 400, "releaseId"),
        ({"deviceId": ""}, 400, "deviceId"),
    ):
        sent = {"patchId": p1, **body}
        reply = _report(admin, demo, sent.pop("deviceId", "dev-bad"), sent.pop("patchId"), **sent)
        assert reply.status == status, (body, reply.body)
        if field:
            assert reply.body["field"] == field
    # the invalid reports above counted toward dev-bad's rate limit but nothing was counted
    assert admin.get(ws_path(demo, f"/hotpatch/patches/{p1}")).body["reports"]["total"] == 0
    for _ in range(3):
        assert _report(admin, demo, "dev-flood", p1).status == 200
    for _ in range(7):
        assert _report(admin, demo, "dev-flood", p1).body["counted"] is False
    flooded = _report(admin, demo, "dev-flood", p1)
    assert flooded.status == 429
    assert admin.get(ws_path(demo, f"/hotpatch/patches/{p1}")).body["reports"]["total"] == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"type": "gray"}, 400, "whitelistIds"),
        ({"type": "official", "whitelistIds": ["1"]}, 400, "whitelistIds"),
        ({"type": "gray", "whitelistIds": ["424242"]}, 400, "whitelistIds[0]"),
        (
            {"type": "official", "rules": [{"type": "city", "operation": 1, "values": ["Shanghai"]}]},
            400,
            "rules",
        ),
        ({"type": "canary"}, 400, "type"),
        ({"type": "official", "guardrail": {"failurePercent": 0}}, 400, "guardrail.failurePercent"),
        (
            {"type": "official", "guardrail": {"failurePercent": 5, "minReports": 0}},
            400,
            "guardrail.minReports",
        ),
        ({"type": "official", "guardrail": {"minReports": 5}}, 400, "guardrail.failurePercent"),
    ],
)
def test_bad_release_input(admin, demo, aws, body, status, field):
    app_version(admin, demo, "5.0")
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    reply = admin.post(ws_path(demo, f"/hotpatch/patches/{p1}/releases"), body)
    assert reply.status == status and reply.body["field"] == field, reply.body
    assert admin.get(ws_path(demo, "/hotpatch/releases")).body["releases"] == []


def test_gray_with_advanced_rules_and_a_whitelist_in_use_cannot_be_deleted(
    client, admin, demo, aws, tmp_path
):
    app_version(admin, demo, "5.0")
    qa = _whitelist(admin, demo, "alice,bob")
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    _release(admin, demo, p1, type="gray", whitelistIds=[qa],
             rules=[{"type": "city", "operation": 1, "values": ["Shanghai"]}])  # fmt: skip
    in_shanghai = Device(Platform.IOS, user_id="alice", device_id="d1", client_version="5.0", city="Shanghai")
    in_beijing = Device(Platform.IOS, user_id="bob", device_id="d2", client_version="5.0", city="Beijing")
    assert _phone(client, demo, tmp_path, admin).sync(in_shanghai, report=False).applied == p1
    assert _phone(client, demo, tmp_path, admin).sync(in_beijing, report=False).applied is None
    deleted = admin.delete(ws_path(demo, f"/whitelists/{qa}"))
    assert deleted.status == 409 and "hotpatch release" in deleted.body["message"]


def test_concurrent_reports_from_one_device_count_once(admin, demo, aws):
    import concurrent.futures

    from chalicelib.services import hotpatch_reports

    app_version(admin, demo, "5.0")
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    rid = _release(admin, demo, p1, type="official")["releaseId"]
    body = {"appId": demo["appId"], "workspaceId": demo["workspaceId"], "deviceId": "racer", "patchId": p1,
            "releaseId": rid, "outcome": "applied"}  # fmt: skip
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: hotpatch_reports.report(dict(body)), range(8)))
    assert sorted(r["counted"] for r in results) == [False] * 7 + [True]
    shown = admin.get(ws_path(demo, f"/hotpatch/releases/{rid}")).body
    assert shown["reports"] == {"applied": 1, "failed": 0, "total": 1}


def test_a_concurrent_failure_flood_pauses_the_release_once(admin, demo, aws):
    import concurrent.futures

    from chalicelib.services import hotpatch_reports

    app_version(admin, demo, "5.0")
    p1 = _ready_patch(admin, demo, aws, b"fix-1")
    rid = _release(admin, demo, p1, type="official", guardrail={"failurePercent": 50, "minReports": 10})[
        "releaseId"
    ]
    base = {"appId": demo["appId"], "workspaceId": demo["workspaceId"], "patchId": p1, "releaseId": rid,
            "outcome": "failed", "reason": "crash"}  # fmt: skip
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: hotpatch_reports.report({**base, "deviceId": f"f{n}"}), range(24)))
    assert all(r["counted"] for r in results) and sum(r["paused"] for r in results) == 1
    log = admin.get(ws_path(demo, f"/audit?entityType=hotpatch_release&entityId={rid}")).body["entries"]
    assert [e["actor"] for e in log] == ["system:guardrail", "user:admin"]
