"""Static-first delivery on moto: publishing, the device client, the dynamic check API, and the
property at the heart of the design — the manifest path and the API path always agree."""

from __future__ import annotations

import itertools
import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.targeting import Device, Platform, compile_target, parse_target
from chalicelib.domain.tenancy import TenantId
from tests import fake_product
from tests.delivery_harness import BucketCdn, ChaliceApi, decode

VERSIONS = ["1.0", "2.0", "2.5", "3.0", "4.0"]
DEVICE_VERSIONS = [*VERSIONS, "1.5", "3.5", "9.9"]
USERS = ["u1", "u2", "u3", "u4", "u5", "u6", "vip_1", "vip_22", "stranger"]


@pytest.fixture
def product(aws):
    from chalicelib.services import products

    products.register("fake", "tests.fake_product")
    fake_product.RELEASES.clear()
    fake_product.QUOTAS.clear()
    fake_product.GRANTED.clear()
    yield
    fake_product.RELEASES.clear()


def _admin_call(tenant):
    from chalicelib.domain.access import Principal, PrincipalKind, Role
    from chalicelib.services.context import Call

    return Call(Principal(PrincipalKind.USER, "admin", roles={tenant: Role.ADMIN}), request_id="t")


def _tenant_with_whitelists() -> tuple[TenantId, dict[str, str]]:
    from chalicelib.services import whitelists

    tenant = TenantId(f"APP{uuid.uuid4().hex[:10]}", "prod")
    call = _admin_call(tenant)
    normal = whitelists.create(call, tenant, name="beta", kind="normal", ids="u1,u2,u3")["whitelistId"]
    regex = whitelists.create(call, tenant, name="vips", kind="regex", patterns=[r"vip_\d"])["whitelistId"]
    return tenant, {"normal": normal, "regex": regex}


def _publish(tenant, releases):
    from chalicelib.services import publishing

    fake_product.RELEASES[(tenant.key, "android")] = releases
    publishing.changed(tenant, "fake", (Platform.ANDROID,))


def _device_client(tenant, tmp_path, client, tamper=None, keys=None):
    from chalicelib.services import signing_keys
    from mds.device.client import DeviceClient

    return DeviceClient(
        "http://cdn", "http://api", app_id=tenant.app_id, workspace_id=tenant.workspace_id,
        public_keys=keys if keys is not None else signing_keys.public_keys(tenant),
        state_dir=tmp_path / uuid.uuid4().hex, transport=BucketCdn(tamper), api_transport=ChaliceApi(client),
    )  # fmt: skip


def _server_answer(tenant, device_context):
    from chalicelib.services import checks

    return checks.check(
        "fake", {"appId": tenant.app_id, "workspaceId": tenant.workspace_id, **device_context}
    )


# --- strategies ----------------------------------------------------------------------------------

ranges = st.lists(
    st.tuples(st.sampled_from([None, *VERSIONS]), st.sampled_from([None, *VERSIONS])).map(
        lambda t: (
            {"min": t[0], "max": t[1]}
            if not (t[0] and t[1] and float(t[0]) > float(t[1]))
            else {"min": t[1], "max": t[0]}
        )
    ),
    max_size=2,
)
rules = st.lists(
    st.one_of(
        st.builds(
            lambda op, v: {"type": "city", "operation": op, "values": v},
            st.sampled_from([1, 2]),
            st.lists(st.sampled_from(["Shanghai", "Beijing"]), min_size=1, max_size=2, unique=True),
        ),
        st.builds(
            lambda v: {"type": "network", "operation": 1, "values": v},
            st.lists(st.sampled_from(["Wi-Fi", "4G"]), min_size=1, max_size=2, unique=True),
        ),
        st.builds(
            lambda op: {"type": "osVersion", "operation": op, "ranges": [{"min": "8.0", "max": "12.0"}]},
            st.sampled_from([3, 4]),
        ),
    ),
    max_size=2,
    unique_by=lambda r: r["type"],
)


@st.composite
def releases(draw, whitelist_ids):
    out = []
    for n in range(draw(st.integers(0, 4))):
        body = {"platform": "android", "clientVersions": draw(ranges), "rules": draw(rules)}
        lists = draw(st.lists(st.sampled_from(sorted(whitelist_ids.values())), max_size=2, unique=True))
        if lists:
            body["whitelistIds"] = lists
        percent = draw(st.sampled_from([None, 10, 50, 100]))
        if percent is not None:
            body["rollout"] = {"percent": percent, "salt": f"r{n}"}
        dynamic = draw(st.booleans()) and draw(st.booleans())
        candidate = Candidate(
            id=f"rel-{n}", target=compile_target(parse_target(body)),
            payload={"resultStatus": 202 + 2 * (n % 3), "release": n}, dynamic=dynamic,
            subject=draw(st.sampled_from(["", "", "h5-a", "key.b"])),  # one decision per subject
        )  # fmt: skip
        if dynamic:
            fake_product.QUOTAS[candidate.id] = draw(st.integers(0, 3))
        out.append(candidate)
    return out


devices = st.fixed_dictionaries(
    {
        "platform": st.just("android"),
        "clientVersion": st.sampled_from(DEVICE_VERSIONS),
        "userId": st.sampled_from(USERS),
        "city": st.sampled_from(["Shanghai", "Beijing", "Shenzhen"]),
        "netType": st.sampled_from(["WIFI", "4g", "3G"]),
        "osVersion": st.sampled_from(["7.1", "8.0", "11", "13.0"]),
    }
).map(lambda d: {**d, "deviceId": "dev-" + d["userId"]})


@settings(
    max_examples=40,  # x 30 devices: 1,200 checks, each by both paths
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_manifest_path_and_api_path_agree(product, client, tmp_path, data):
    """For random releases and devices, the reference client (CDN manifests, the API only for dynamic
    entries) and the dynamic check API give exactly the same answer."""
    tenant, whitelist_ids = _tenant_with_whitelists()
    _publish(tenant, data.draw(releases(whitelist_ids)))
    device_client = _device_client(tenant, tmp_path, client)
    for context in data.draw(st.lists(devices, min_size=30, max_size=30)):
        static = device_client.check("fake", Device.from_context(context))
        assert static.answer == _server_answer(tenant, context), context


def test_static_answers_need_no_api(product, client, tmp_path):
    tenant, lists = _tenant_with_whitelists()
    official = Candidate(
        "official", compile_target(parse_target({"clientVersions": [{"max": "3.0"}]})), {"resultStatus": 204}
    )
    gray = Candidate(
        "gray", compile_target(parse_target({"whitelistIds": [lists["normal"]]})), {"resultStatus": 206}
    )
    _publish(tenant, [gray, official])
    device_client = _device_client(tenant, tmp_path, client)
    listed = device_client.check("fake", Device("android", user_id="u1", client_version="2.0"))
    assert (listed.answer["resultStatus"], listed.static) == (206, True)
    other = device_client.check("fake", Device("android", user_id="u9", client_version="2.0"))
    assert (other.answer["resultStatus"], other.static) == (204, True)
    again = device_client.check("fake", Device("android", user_id="u9", client_version="2.0"))
    assert any(r.endswith(" 304") for r in again.requests)  # the index is revalidated, not re-downloaded
    newer = device_client.check("fake", Device("android", user_id="u9", client_version="3.5"))
    assert newer.answer == {"resultStatus": 201, "userId": "u9"}


def test_dynamic_entries_go_to_the_api_and_quota_is_never_exceeded(product, client, tmp_path):
    tenant, _ = _tenant_with_whitelists()
    window = Candidate("window", compile_target(parse_target({})), {"resultStatus": 202}, dynamic=True)
    fake_product.QUOTAS["window"] = 3
    _publish(tenant, [window])
    device_client = _device_client(tenant, tmp_path, client)
    answers = [
        device_client.check("fake", Device("android", user_id=f"p{n}", client_version="1.0"))
        for n in range(6)
    ]
    assert [a.static for a in answers] == [False] * 6
    assert [a.answer["resultStatus"] for a in answers] == [202, 202, 202, 201, 201, 201]
    assert (
        device_client.check("fake", Device("android", user_id="p1", client_version="1.0")).answer[
            "resultStatus"
        ]
        == 202
    )


def test_tampered_foreign_and_rolled_back_manifests_are_refused(product, client, tmp_path):
    from chalicelib.manifests.reader import ManifestError
    from chalicelib.security import signing

    tenant, _ = _tenant_with_whitelists()
    _publish(tenant, [Candidate("a", compile_target(parse_target({})), {"resultStatus": 204})])

    def flip(path, body):
        if path.endswith("index.json"):
            return body.replace(b'"payload":"', b'"payload":"e', 1)
        return body

    with pytest.raises(ManifestError, match="signature"):
        _device_client(tenant, tmp_path, client, tamper=flip).check(
            "fake", Device("android", client_version="1.0", user_id="x")
        )
    stranger = signing.generate()
    with pytest.raises(ManifestError, match="pinned keys"):
        _device_client(tenant, tmp_path, client, keys={stranger.key_id: stranger.public_raw}).check(
            "fake", Device("android", client_version="1.0", user_id="x")
        )

    # a device that saw sequence 2 refuses a replayed sequence-1 index
    from chalicelib.manifests.publisher import index_path
    from chalicelib.store import delivery as store

    old_index = store.get_file(index_path(tenant, "fake", "android"))
    _publish(tenant, [Candidate("b", compile_target(parse_target({})), {"resultStatus": 206})])
    device_client = _device_client(tenant, tmp_path, client)
    assert device_client.check("fake", Device("android", client_version="1.0", user_id="x")).sequence == 2
    replay = _device_client(
        tenant, tmp_path, client, tamper=lambda p, b: old_index if p.endswith("index.json") else b
    )
    replay._dir = device_client._dir  # the same phone, its state kept
    replayed = replay.check("fake", Device("android", client_version="1.0", user_id="x"))
    assert replayed.stale and "rollback" in replayed.refused
    assert (replayed.sequence, replayed.answer["resultStatus"]) == (2, 206)  # the last good manifest


def test_network_failure_falls_back_to_last_good_manifest(product, client, tmp_path):
    import httpx

    tenant, _ = _tenant_with_whitelists()
    _publish(tenant, [Candidate("a", compile_target(parse_target({})), {"resultStatus": 204})])
    device_client = _device_client(tenant, tmp_path, client)
    device = Device("android", client_version="1.0", user_id="x")
    assert device_client.check("fake", device).answer["resultStatus"] == 204

    class Down(httpx.BaseTransport):
        def handle_request(self, request):
            raise httpx.ConnectError("offline")

    device_client._cdn = httpx.Client(base_url="http://cdn", transport=Down())
    offline = device_client.check("fake", device)
    assert offline.stale and offline.answer["resultStatus"] == 204


def test_publishing_is_idempotent_and_reconcile_changes_nothing(product, aws):
    import boto3

    from chalicelib.services import publishing
    from chalicelib.store import delivery as store

    tenant, lists = _tenant_with_whitelists()
    _publish(
        tenant, [Candidate("a", compile_target(parse_target({"whitelistIds": [lists["normal"]]})), {"x": 1})]
    )
    s3 = boto3.client("s3", region_name="us-east-1")
    bucket = aws.buckets["DeliveryBucket"]

    def snapshot():
        objects = s3.list_objects_v2(Bucket=bucket)["Contents"]
        return {o["Key"]: o["ETag"] for o in objects}

    before = snapshot()
    assert store.get_state(tenant, "fake", "android").sequence == 1
    assert publishing.reconcile() == 0
    publishing.changed(tenant, "fake", (Platform.ANDROID,))
    assert snapshot() == before  # byte-identical: nothing rewritten, sequence unchanged
    assert store.get_state(tenant, "fake", "android").sequence == 1


def test_concurrent_changes_never_expose_a_missing_segment(product, aws):
    from chalicelib.manifests.publisher import index_path
    from chalicelib.store import delivery as store

    tenant, _ = _tenant_with_whitelists()
    _publish(tenant, [])
    stop = threading.Event()
    problems = []

    def reader():
        while not stop.is_set():
            index = decode(store.get_file(index_path(tenant, "fake", "android")))
            for entry in [*index["segments"], index["unversioned"]]:
                if store.get_file(entry["path"]) is None:
                    problems.append(entry["path"])

    def writer(n):
        from chalicelib.services import publishing

        versions = itertools.cycle(VERSIONS)
        for i in range(8):
            target = compile_target(parse_target({"clientVersions": [{"min": next(versions)}]}))
            fake_product.RELEASES[(tenant.key, "android")] = [Candidate(f"w{n}-{i}", target, {"n": i})]
            publishing.changed(tenant, "fake", (Platform.ANDROID,))

    threads = [threading.Thread(target=reader)] + [
        threading.Thread(target=writer, args=(n,)) for n in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    stop.set()
    threads[0].join()
    assert problems == []
    sequence = decode(store.get_file(index_path(tenant, "fake", "android")))["sequence"]
    assert sequence == store.get_state(tenant, "fake", "android").sequence >= 2


def test_signing_keys_export_rotate_and_republish(product, admin, demo, client, tmp_path):
    import base64

    from tests.conftest import ws_path

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    _publish(tenant, [Candidate("a", compile_target(parse_target({})), {"resultStatus": 204})])
    exported = admin.get(ws_path(demo, "/signing-keys")).body
    assert exported["algorithm"] == "Ed25519" and [k["status"] for k in exported["keys"]] == ["current"]
    assert exported["keys"][0]["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    old = {k["keyId"]: base64.b64decode(k["publicKey"]) for k in exported["keys"]}
    status = admin.get(ws_path(demo, "/delivery/fake/android")).body
    assert status["sequence"] == 1 and status["indexUrl"].endswith(
        "/m/DEMO_APP/default/fake/android/index.json"
    )

    rotated = admin.post(ws_path(demo, "/signing-keys/rotate")).body
    assert [k["status"] for k in rotated["keys"]] == ["current", "retired"]
    new = {k["keyId"]: base64.b64decode(k["publicKey"]) for k in rotated["keys"] if k["status"] == "current"}
    assert (
        admin.get(ws_path(demo, "/delivery/fake/android")).body["sequence"] == 2
    )  # re-signed and re-published
    assert (
        _device_client(tenant, tmp_path, client, keys=new)
        .check("fake", Device("android", client_version="1.0", user_id="x"))
        .answer["resultStatus"]
        == 204
    )
    from chalicelib.manifests.reader import ManifestError

    with pytest.raises(ManifestError):  # a phone that only pinned the retired key refuses the new files
        _device_client(tenant, tmp_path, client, keys=old).check(
            "fake", Device("android", client_version="1.0", user_id="x")
        )
    viewer_rotate = admin.post(
        ws_path(demo, "/users"), {"username": "viewer9", "password": "a-long-password", "role": "viewer"}
    )
    assert viewer_rotate.status == 201
    token = admin.login("viewer9", "a-long-password")
    assert admin.post(ws_path(demo, "/signing-keys/rotate"), token=token).status == 403


def test_check_api_validates_and_rate_limits(product, api):
    ok = api.post(
        "/client/v1/fake/check", {"appId": "A1", "workspaceId": "w", "platform": "android", "deviceId": "d1"}
    )
    assert ok.status == 200 and ok.body == {"resultStatus": 201, "userId": None}
    bad = api.post(
        "/client/v1/fake/check", {"appId": "A1", "workspaceId": "w", "platform": "windows", "deviceId": "d1"}
    )
    assert bad.status == 400 and bad.body["field"] == "platform"
    unknown = api.post(
        "/client/v1/nope/check", {"appId": "A1", "workspaceId": "w", "platform": "ios", "deviceId": "d"}
    )
    assert unknown.status == 404
    extra = api.post(
        "/client/v1/fake/check", {"appId": "A1", "workspaceId": "w", "platform": "ios", "secret": 1}
    )
    assert extra.status == 400 and extra.body["field"] == "secret"
    for _ in range(59):
        api.post(
            "/client/v1/fake/check",
            {"appId": "A1", "workspaceId": "w", "platform": "android", "deviceId": "d1"},
        )
    limited = api.post(
        "/client/v1/fake/check", {"appId": "A1", "workspaceId": "w", "platform": "android", "deviceId": "d1"}
    )
    assert limited.status == 429 and limited.headers["Retry-After"]


def test_a_whitelist_change_reaches_devices(product, client, tmp_path):
    from chalicelib.services import whitelists

    tenant, lists = _tenant_with_whitelists()
    gray = Candidate(
        "gray", compile_target(parse_target({"whitelistIds": [lists["normal"]]})), {"resultStatus": 206}
    )
    _publish(tenant, [gray])
    phone = _device_client(tenant, tmp_path, client)
    newcomer = Device("android", user_id="u42", client_version="1.0")
    assert phone.check("fake", newcomer).answer["resultStatus"] == 201
    whitelists.add_members(_admin_call(tenant), tenant, lists["normal"], "u42")
    assert phone.check("fake", newcomer).answer["resultStatus"] == 206


def test_single_reminders_respect_the_silent_period(product, client, tmp_path):
    tenant, _ = _tenant_with_whitelists()
    payload = {"resultStatus": 202, "taskId": "9", "silentPeriodDays": 3}
    _publish(tenant, [Candidate("single", compile_target(parse_target({})), payload)])
    clock = [1_000_000.0]
    phone = _device_client(tenant, tmp_path, client)
    phone._clock = lambda: clock[0]
    device = Device("android", user_id="x", client_version="1.0")
    assert phone.check("fake", device).prompt is True
    clock[0] += 2 * 86400
    assert phone.check("fake", device).prompt is False  # reminded 2 days ago
    clock[0] += 1.5 * 86400
    assert phone.check("fake", device).prompt is True  # the 3-day silent period is over
    _publish(
        tenant, [Candidate("forced", compile_target(parse_target({})), {"resultStatus": 206, "taskId": "10"})]
    )
    assert phone.check("fake", device).prompt is True and phone.check("fake", device).prompt is True


def test_the_check_api_cache_never_serves_another_publication(product, client):
    """A warm container caches a verified index by (sequence, content digest) and never remembers a
    missing file: when the counters restart (a fresh stack, a recreated workspace), the same sequence
    number with other content is read again, not served from memory."""
    from chalicelib.services import checks
    from chalicelib.store import delivery
    from chalicelib.store.models import SequenceModel

    tenant, _ = _tenant_with_whitelists()
    anyone = compile_target(parse_target({}))
    context = {"platform": "android", "userId": "u1", "deviceId": "d1", "clientVersion": "1.0"}
    _publish(tenant, [Candidate("a", anyone, {"resultStatus": 202})])
    assert _server_answer(tenant, context)["resultStatus"] == 202

    state_key = f"publish#{tenant.key}#fake#android"
    delivery.PublishStateModel(tenant=state_key).delete()
    SequenceModel(tenant=f"seq#{state_key}").delete()
    _publish(tenant, [Candidate("b", anyone, {"resultStatus": 206})])
    assert delivery.get_state(tenant, "fake", "android").sequence == 1  # the same number as before
    assert _server_answer(tenant, context)["resultStatus"] == 206

    path = f"m/{tenant.app_id}/{tenant.workspace_id}/fake/android/seg/late.json"
    assert checks.immutable_file(path) is None
    delivery.put_file(path, b"{}", cache_control="no-cache")
    assert checks.immutable_file(path) == b"{}"


def test_a_server_error_on_the_index_falls_back_to_the_last_good_manifest(product, client, tmp_path):
    """A CDN that answers 5xx (an origin outage behind the edge) is an outage like a network error: the
    device keeps its last good manifest instead of failing the check."""
    import httpx

    tenant, _ = _tenant_with_whitelists()
    _publish(tenant, [Candidate("a", compile_target(parse_target({})), {"resultStatus": 204})])
    device_client = _device_client(tenant, tmp_path, client)
    device = Device("android", client_version="1.0", user_id="x")
    assert device_client.check("fake", device).answer["resultStatus"] == 204

    class Failing(httpx.BaseTransport):
        def handle_request(self, request):
            return httpx.Response(503, content=b"origin unavailable")

    device_client._cdn = httpx.Client(base_url="http://cdn", transport=Failing())
    outage = device_client.check("fake", device)
    assert outage.stale and "503" in outage.refused
    assert outage.answer["resultStatus"] == 204 and outage.static
    fresh = _device_client(tenant, tmp_path, client)
    fresh._cdn = httpx.Client(base_url="http://cdn", transport=Failing())
    with pytest.raises(httpx.HTTPStatusError):  # nothing stored yet: the check fails (try later)
        fresh.check("fake", device)
