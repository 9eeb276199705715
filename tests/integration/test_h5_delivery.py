"""Which H5 version a device gets (product ``h5``): releases, priority per H5 app, client ranges, the
time-window quota, pause/resume/end, and the reference client downloading, verifying and installing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.targeting import Device
from chalicelib.domain.tenancy import TenantId
from tests import h5_zips
from tests.builders import H5, add_resource, configure, delivery_get, h5, zip_bytes
from tests.conftest import ws_path
from tests.delivery_harness import BucketCdn, ChaliceApi


@pytest.fixture
def setup(admin, demo, aws, rsa_pem, tmp_path):
    public = configure(admin, demo, rsa_pem)
    admin.post(h5(demo, "/apps"), {"h5Id": H5, "name": "Home", "resourceType": "normal"})
    v1 = add_resource(admin, demo, aws, zip_bytes(tmp_path, h5_zips.normal, version="1"), version="1.0.0.1")
    v2 = add_resource(admin, demo, aws, zip_bytes(tmp_path, h5_zips.normal, version="2"), version="1.0.0.2")
    assert v1["status"] == v2["status"] == "ready"
    return {"public": public, "v1": v1, "v2": v2}


def device_client(client, demo, tmp_path, tamper=None):
    from chalicelib.services import signing_keys
    from mds.device.client import DeviceClient

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    return DeviceClient(
        "http://cdn", "http://api", app_id=tenant.app_id, workspace_id=tenant.workspace_id,
        public_keys=signing_keys.public_keys(tenant), state_dir=tmp_path / uuid.uuid4().hex,
        transport=BucketCdn(tamper), api_transport=ChaliceApi(client),
    )  # fmt: skip


def whitelist(admin, demo, ids: str) -> str:
    reply = admin.post(
        ws_path(demo, "/whitelists"), {"name": f"wl{uuid.uuid4().hex[:6]}", "type": "normal", "ids": ids}
    )
    assert reply.status == 201, reply.body
    return reply.body["whitelistId"]


def task(admin, demo, resource: dict, **body) -> dict:
    reply = admin.post(h5(demo, f"/resources/{resource['id']}/tasks"), body)
    assert reply.status == 201, reply.body
    return reply.body


def test_story_4_gray_to_a_whitelist_then_end(admin, demo, aws, client, setup, tmp_path):
    v1, v2, public = setup["v1"], setup["v2"], setup["public"]
    task(admin, demo, v1, type="official", memo="everyone")
    gray = task(
        admin, demo, v2, type="gray", grayModel="whitelist", whitelistIds=[whitelist(admin, demo, "alice")]
    )
    alice = Device("android", user_id="alice", client_version="10.2.0")
    bob = Device("android", user_id="bob", client_version="10.2.0")
    alice_client, bob_client = device_client(client, demo, tmp_path), device_client(client, demo, tmp_path)

    got = alice_client.sync_h5(alice, public)
    assert got[H5]["version"] == "1.0.0.2" and got[H5]["installed"], got
    assert (alice_client._dir / "h5" / H5 / "1.0.0.2" / "www" / "index.html").exists()
    assert bob_client.sync_h5(bob, public)[H5]["version"] == "1.0.0.1"

    ended = admin.post(h5(demo, f"/tasks/{gray['taskId']}/status"), {"action": "end"})
    assert ended.status == 200 and ended.body["status"] == "ended"
    assert alice_client.sync_h5(alice, public)[H5]["version"] == "1.0.0.1"
    assert alice_client.installed_h5() == {H5: "1.0.0.1"}
    assert delivery_get(aws, v2["amrUrl"]) is None  # no longer downloadable
    assert delivery_get(aws, v1["amrUrl"]) is not None  # other versions unaffected
    again = admin.post(h5(demo, f"/tasks/{gray['taskId']}/status"), {"action": "resume"})
    assert again.status == 409 and again.body["field"] == "action"
    # export still works for an ended version
    assert admin.get(h5(demo, f"/resources/{v2['id']}/export")).status == 200


def test_a_tampered_package_is_refused_and_not_installed(admin, demo, client, setup, tmp_path):
    task(admin, demo, setup["v1"], type="official")

    def tamper(path, body):
        if path.endswith(".amr"):
            return body.replace(b"hi</body>", b"HI</body>")
        return body

    device = Device("ios", user_id="eve", client_version="10.1.40")
    evil = device_client(client, demo, tmp_path, tamper=tamper)
    got = evil.sync_h5(device, setup["public"])
    assert got[H5]["installed"] is False and got[H5]["error"]
    assert not (evil._dir / "h5" / H5 / "1.0.0.1").exists() and evil.installed_h5() == {}


def test_story_5_client_ranges_per_platform(admin, demo, client, setup, tmp_path):
    task(admin, demo, setup["v1"], type="official")
    checker = device_client(client, demo, tmp_path)

    def version(platform: str, client_version: str) -> str | None:
        packages = checker.check(
            "h5", Device(platform, device_id="d1", client_version=client_version)
        ).answer["packages"]
        return packages[0]["version"] if packages else None

    assert version("ios", "10.1.40") == "1.0.0.1"
    assert version("android", "10.2.0") == "1.0.0.1"
    assert version("ios", "10.1.4") is None
    assert version("android", "10.1.40") is None


def test_priority_pause_resume_and_advanced_rules(admin, demo, client, setup, tmp_path):
    v1, v2 = setup["v1"], setup["v2"]
    task(admin, demo, v1, type="official")
    ruled = task(
        admin, demo, v2, type="gray", grayModel="whitelist", whitelistIds=[whitelist(admin, demo, "carol")],
        rules=[{"type": "city", "operation": 1, "values": ["Shanghai"]},
               {"type": "osVersion", "operation": 3, "values": ["8.0-12.0"]}],
    )  # fmt: skip
    checker = device_client(client, demo, tmp_path)

    def version(**ctx) -> str:
        device = Device("android", user_id="carol", client_version="10.2.0", **ctx)
        return checker.check("h5", device).answer["packages"][0]["version"]

    assert version(city="Shanghai", os_version="9.0") == "1.0.0.2"
    assert version(city="Beijing", os_version="9.0") == "1.0.0.1"
    assert version(city="Shanghai", os_version="13") == "1.0.0.1"
    paused = admin.post(h5(demo, f"/tasks/{ruled['taskId']}/status"), {"action": "pause"})
    assert paused.body["status"] == "paused"
    assert version(city="Shanghai", os_version="9.0") == "1.0.0.1"
    admin.post(h5(demo, f"/tasks/{ruled['taskId']}/status"), {"action": "resume"})
    assert version(city="Shanghai", os_version="9.0") == "1.0.0.2"
    listed = admin.get(h5(demo, f"/resources/{v2['id']}/tasks")).body["tasks"]
    assert [t["taskId"] for t in listed] == [ruled["taskId"]] and listed[0]["rules"][0]["operation"] == 1


def test_time_window_quota_and_end_time_limits(admin, demo, aws, client, setup, tmp_path):
    v1, v2 = setup["v1"], setup["v2"]
    task(admin, demo, v1, type="official")
    too_late = (datetime.now(UTC) + timedelta(days=8)).strftime("%Y-%m-%d %H:%M:%S")
    refused = admin.post(
        h5(demo, f"/resources/{v2['id']}/tasks"),
        {"type": "gray", "grayModel": "time_window", "endTime": too_late, "usersCount": 2},
    )
    assert (
        refused.status == 400 and refused.body["field"] == "endTime" and "7 days" in refused.body["message"]
    )
    assert admin.get(h5(demo, f"/resources/{v2['id']}/tasks")).body["tasks"] == []
    end = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    window = task(admin, demo, v2, type="gray", grayModel="time_window", endTime=end, usersCount=2)
    checker = device_client(client, demo, tmp_path)
    got = [
        checker.check("h5", Device("ios", user_id=f"u{i}", client_version="10.1.40")).answer["packages"][0][
            "version"
        ]
        for i in range(4)
    ]
    assert got == ["1.0.0.2", "1.0.0.2", "1.0.0.1", "1.0.0.1"]
    again = checker.check("h5", Device("ios", user_id="u0", client_version="10.1.40")).answer["packages"][0]
    assert again["version"] == "1.0.0.2"  # a winner keeps it
    assert admin.get(h5(demo, f"/tasks/{window['taskId']}")).body["claimed"] == 2

    # the window runs out without anyone ending it: the reconciler's sweep takes the version down
    from chalicelib.services import h5_tasks

    end_epoch = int(datetime.strptime(end, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp())
    assert h5_tasks.sweep(now=end_epoch - 1) == 0 and delivery_get(aws, v2["amrUrl"]) is not None
    assert h5_tasks.sweep(now=end_epoch) == 1
    assert delivery_get(aws, v2["amrUrl"]) is None and delivery_get(aws, v1["amrUrl"]) is not None
    assert h5_tasks.sweep(now=end_epoch + 60) == 0  # once
    from chalicelib.events import handlers

    handlers.reconcile({})  # the minute schedule runs the sweep after the reconciler


def test_a_device_on_the_released_version_gets_only_the_changed_files(
    admin, demo, aws, client, setup, tmp_path
):
    v1, v2, public = setup["v1"], setup["v2"], setup["public"]
    first = task(admin, demo, v1, type="official")
    device = Device("android", user_id="frank", client_version="10.2.0")
    phone = device_client(client, demo, tmp_path)
    assert phone.sync_h5(device, public)[H5]["via"] == "full"

    task(admin, demo, v2, type="official")  # v1 was released: v2 gets a diff from it
    resource = admin.get(h5(demo, f"/resources/{v2['id']}")).body
    assert resource["diff"]["baseVersion"] == "1.0.0.1" and resource["diff"]["size"] < resource["fileSize"]
    got = phone.sync_h5(device, public)[H5]
    assert got["version"] == "1.0.0.2" and got["via"] == "diff", got
    full = device_client(client, demo, tmp_path)
    assert full.sync_h5(device, public)[H5]["via"] == "full"  # nothing installed: the full package
    installed = {p.relative_to(phone._dir / "h5" / H5 / "1.0.0.2"): p.read_bytes()
                 for p in (phone._dir / "h5" / H5 / "1.0.0.2").rglob("*") if p.is_file()}  # fmt: skip
    reference = {p.relative_to(full._dir / "h5" / H5 / "1.0.0.2"): p.read_bytes()
                 for p in (full._dir / "h5" / H5 / "1.0.0.2").rglob("*") if p.is_file()}  # fmt: skip
    assert installed == reference and installed

    # a device whose installed base was altered falls back to the full package
    (phone._dir / "h5" / H5 / "1.0.0.2").rename(phone._dir / "moved")
    phone._save_state({**phone._state(), "h5": {H5: "1.0.0.1"}})
    (phone._dir / "h5" / H5 / "1.0.0.1" / "www" / "css" / "app.css").write_bytes(b"changed locally")
    again = phone.sync_h5(device, public)[H5]
    assert again["via"] == "full" and "install the full package" in again["diffError"]
    assert admin.post(h5(demo, f"/tasks/{first['taskId']}/status"), {"action": "end"}).status == 200
    assert delivery_get(aws, resource["diff"]["url"]) is not None  # v2 is still live, its diff too


def test_another_workspace_cannot_reach_a_task_and_a_viewer_cannot_end_it(admin, api, demo, setup):
    made = task(admin, demo, setup["v1"], type="official")
    other = admin.post("/api/workspaces", {"appId": "OTHER_APP", "workspaceId": "default", "name": "Other"})
    assert other.status == 201, other.body
    foreign = {"appId": "OTHER_APP", "workspaceId": "default"}
    assert admin.get(h5(foreign, f"/tasks/{made['taskId']}")).status == 404
    assert admin.post(h5(foreign, f"/tasks/{made['taskId']}/status"), {"action": "end"}).status == 404
    assert admin.get(h5(foreign, f"/resources/{setup['v1']['id']}")).status == 404
    user = {"username": "h5.watcher", "password": "a-long-password", "role": "viewer"}
    assert admin.post(ws_path(demo, "/users"), user).status == 201
    viewer = api.login("h5.watcher", "a-long-password")
    denied = api.post(h5(demo, f"/tasks/{made['taskId']}/status"), {"action": "end"}, token=viewer)
    assert denied.status == 403
    assert admin.get(h5(demo, f"/tasks/{made['taskId']}")).body["status"] == "running"
    log = admin.get(ws_path(demo, "/audit?actor=user:h5.watcher")).body["entries"]
    assert [(e["action"], e["outcome"]) for e in log] == [("h5.task.end", "denied")]


def test_a_whitelist_used_by_a_live_h5_task_cannot_be_deleted(admin, demo, setup):
    wid = whitelist(admin, demo, "alice")
    gray = task(admin, demo, setup["v2"], type="gray", grayModel="whitelist", whitelistIds=[wid])
    refused = admin.delete(ws_path(demo, f"/whitelists/{wid}"))
    assert refused.status == 409, refused.body
    assert "in use" in refused.body["message"] and f"H5 task {gray['taskId']}" in refused.body["message"]
    assert admin.get(ws_path(demo, f"/whitelists/{wid}")).status == 200  # nothing deleted
    admin.post(h5(demo, f"/tasks/{gray['taskId']}/status"), {"action": "end"})
    assert admin.delete(ws_path(demo, f"/whitelists/{wid}")).status == 204
