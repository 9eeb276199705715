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
WINDOW_END = 4_000_000_000  # epoch seconds: time windows of the random release sets end after the test


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
        dynamic = draw(st.booleans()) and draw(st.booleans())  # a time window: grants, then closed
        candidate = Candidate(
            id=f"rel-{n}", target=compile_target(parse_target(body)),
            payload={"resultStatus": 202 + 2 * (n % 3), "release": n}, dynamic=dynamic,
            subject=draw(st.sampled_from(["", "", "h5-a", "key.b"])),  # one decision per subject
            not_after=WINDOW_END if dynamic else None,
        )  # fmt: skip
        if dynamic:  # 0: closed from the start; else it closes when the last place is granted
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
    entries it holds no grant for) and the dynamic check API give exactly the same answer — with time
    windows whose places are granted (the phone keeps the grants of every user it checked for) and
    windows that are closed from the start or close when their last place goes."""
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
    window = Candidate(
        "window", compile_target(parse_target({})), {"resultStatus": 202}, dynamic=True, not_after=2**40
    )
    fake_product.QUOTAS["window"] = 3
    _publish(tenant, [window])
    device_client = _device_client(tenant, tmp_path, client)
    answers = [
        device_client.check("fake", Device("android", user_id=f"p{n}", client_version="1.0"))
        for n in range(6)
    ]
    # the third place fills the window: it is published closed, and nobody after that asks at all
    assert [a.static for a in answers] == [False, False, False, True, True, True]
    assert [a.answer["resultStatus"] for a in answers] == [202, 202, 202, 201, 201, 201]
    again = device_client.check("fake", Device("android", user_id="p1", client_version="1.0"))
    assert (again.answer["resultStatus"], again.static) == (202, True)  # its grant, verified offline


def test_tampered_foreign_and_rolled_back_manifests_are_refused(product, client, tmp_path):
    from chalicelib.manifests.reader import ManifestError
    from chalicelib.security import signing

    tenant, _ = _tenant_with_whitelists()
    _publish(tenant, [Candidate("a", compile_target(parse_target({})), {"resultStatus": 204})])

    def flip(path, body):
        if path.endswith("index.json"):
            at = body.index(b'"payload":"') + len(b'"payload":"') + 5
            return body[:at] + (b"A" if body[at : at + 1] != b"A" else b"B") + body[at + 1 :]
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

    old_index = store.get_file(index_path(tenant, "android"))
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
    assert store.get_state(tenant, "android").sequence == 1
    assert publishing.reconcile() == 0
    publishing.changed(tenant, "fake", (Platform.ANDROID,))
    assert snapshot() == before  # byte-identical: nothing rewritten, sequence unchanged
    assert store.get_state(tenant, "android").sequence == 1


def test_concurrent_changes_never_expose_a_missing_segment(product, aws):
    from chalicelib.manifests.publisher import index_path
    from chalicelib.store import delivery as store

    tenant, _ = _tenant_with_whitelists()
    _publish(tenant, [])
    stop = threading.Event()
    problems = []

    def reader():
        while not stop.is_set():
            index = decode(store.get_file(index_path(tenant, "android")))
            for section in index["products"].values():
                for entry in [*section["segments"], section["unversioned"]]:
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
    sequence = decode(store.get_file(index_path(tenant, "android")))["sequence"]
    assert sequence == store.get_state(tenant, "android").sequence >= 2


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
    assert status["sequence"] == 1 and status["indexUrl"].endswith("/m/DEMO_APP/default/android/index.json")
    assert status["legacyIndexUrl"].endswith("/m/DEMO_APP/default/fake/android/index.json")
    assert status["legacySequence"] == 1 and status["pollSeconds"] == 600

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

    state_key = delivery.index_counter(tenant, "android")
    delivery.PublishStateModel(tenant=state_key).delete()
    SequenceModel(tenant=f"seq#{state_key}").delete()
    _publish(tenant, [Candidate("b", anyone, {"resultStatus": 206})])
    assert delivery.get_state(tenant, "android").sequence == 1  # the same number as before
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


def _window(tenant, quota, *extra):
    window = Candidate(
        "window", compile_target(parse_target({})), {"resultStatus": 206}, dynamic=True, not_after=WINDOW_END
    )
    fake_product.QUOTAS["window"] = quota
    _publish(tenant, [window, *extra])
    return window


def _phone(tenant, state_dir, client, keys=None):
    from chalicelib.services import signing_keys
    from mds.device.client import DeviceClient

    return DeviceClient(
        "http://cdn", "http://api", app_id=tenant.app_id, workspace_id=tenant.workspace_id,
        public_keys=keys if keys is not None else signing_keys.public_keys(tenant), state_dir=state_dir,
        transport=BucketCdn(), api_transport=ChaliceApi(client),
    )  # fmt: skip


def _posts(decision):
    return [r for r in decision.requests if r.startswith("POST")]


def test_a_granted_device_keeps_its_upgrade_across_restarts_with_no_api_call(product, client, tmp_path):
    tenant, _ = _tenant_with_whitelists()
    window = _window(tenant, 5)
    device = Device("android", user_id="g1", client_version="1.0")
    first = _phone(tenant, tmp_path / "g1", client).check("fake", device)
    assert (first.answer["resultStatus"], first.static, len(_posts(first))) == (206, False, 1)

    later = Candidate("later", compile_target(parse_target({"clientVersions": [{"min": "9.0"}]})), {"x": 1})
    _publish(tenant, [window, later])  # a new publication: new sequence, new section digest
    restarted = _phone(tenant, tmp_path / "g1", client)  # the app restarts: a new client, the same storage
    again = restarted.check("fake", device)
    assert again.sequence == 2 and (again.answer["resultStatus"], again.static) == (206, True)
    assert _posts(again) == [] and again.chosen == {"": "window"}
    assert again.answer == _server_answer(
        tenant, {"platform": "android", "userId": "g1", "clientVersion": "1.0"}
    )
    other = restarted.check("fake", Device("android", user_id="g2", client_version="1.0"))
    assert len(_posts(other)) == 1  # a grant is per device: another user on this phone asks


def test_a_full_window_is_closed_in_the_manifest_and_nobody_new_asks(product, client, tmp_path):
    from chalicelib.manifests.publisher import index_path
    from chalicelib.store import delivery as store

    tenant, _ = _tenant_with_whitelists()
    fallback = Candidate("official", compile_target(parse_target({})), {"resultStatus": 202})
    _window(tenant, 2, fallback)
    phone = _phone(tenant, tmp_path / "phone", client)
    winners = [phone.check("fake", Device("android", user_id=f"w{n}", client_version="1.0")) for n in (1, 2)]
    assert [(d.answer["resultStatus"], d.static) for d in winners] == [(206, False), (206, False)]
    index = decode(store.get_file(index_path(tenant, "android")))
    segment = decode(store.get_file(index["products"]["fake"]["segments"][0]["path"]))
    assert segment["candidates"][0]["closed"] is True  # the last place closed it
    late = _phone(tenant, tmp_path / "late", client).check(
        "fake", Device("android", user_id="w3", client_version="1.0")
    )
    assert (late.answer["resultStatus"], late.static, _posts(late)) == (202, True, [])
    held = phone.check("fake", Device("android", user_id="w1", client_version="1.0"))
    assert (held.answer["resultStatus"], held.static) == (206, True)


def test_a_lost_claim_on_a_full_window_still_open_in_the_manifest_closes_it(product, client, tmp_path):
    """One quota for both platforms: the Android claim that takes the last place closes Android's
    index; iOS's still shows the window open, so the first iOS device asks, loses, and that check
    closes iOS's index, so nobody else on iOS asks."""
    from chalicelib.manifests.publisher import index_path
    from chalicelib.services import publishing
    from chalicelib.store import delivery as store

    tenant, _ = _tenant_with_whitelists()
    window = _window(tenant, 1)
    fake_product.RELEASES[(tenant.key, "ios")] = [window]
    publishing.changed(tenant, "fake", (Platform.IOS,))
    android = _phone(tenant, tmp_path / "a", client).check(
        "fake", Device("android", user_id="a1", client_version="1")
    )
    assert android.answer["resultStatus"] == 206

    def ios_closed():
        index = decode(store.get_file(index_path(tenant, "ios")))
        return decode(store.get_file(index["products"]["fake"]["unversioned"]["path"]))["candidates"][0].get(
            "closed"
        )

    assert not ios_closed()
    lost = _phone(tenant, tmp_path / "i1", client).check(
        "fake", Device("ios", user_id="i1", client_version="1")
    )
    assert (lost.answer["resultStatus"], len(_posts(lost))) == (201, 1)
    assert ios_closed() is True
    late = _phone(tenant, tmp_path / "i2", client).check(
        "fake", Device("ios", user_id="i2", client_version="1")
    )
    assert (late.answer["resultStatus"], late.static, _posts(late)) == (201, True, [])


def test_a_tampered_or_foreign_grant_is_refused(product, client, tmp_path):
    import json

    from chalicelib.domain.grants import identity_hash
    from chalicelib.domain.manifests import b64url, canonical_json, unb64url
    from chalicelib.security import signing

    tenant, _ = _tenant_with_whitelists()
    window = _window(tenant, 5)
    phone = _phone(tenant, tmp_path / "phone", client)
    g1 = Device("android", user_id="g1", client_version="1.0")
    phone.check("fake", g1)
    state_file = tmp_path / "phone" / "state.json"
    state = json.loads(state_file.read_text())
    ((key, envelope),) = state["grants"].items()
    assert phone.grant_refusal("fake", "window", g1, now=0) is None

    def stored(replacement):
        state["grants"] = {key: replacement}
        state.pop("dynamic", None)  # no remembered API answer either: only the grant could answer
        state_file.write_text(json.dumps(state))

    document = json.loads(unb64url(envelope["payload"]))
    stored({**envelope, "payload": b64url(json.dumps({**document, "until": WINDOW_END + 1}).encode())})
    assert "signature" in phone.grant_refusal("fake", "window", g1, now=0)
    tampered = phone.check("fake", g1)
    assert len(_posts(tampered)) == 1  # not held: the device asks again (and gets a good grant back)
    assert phone.grant_refusal("fake", "window", g1, now=0) is None

    stranger = signing.generate()  # signed by a key this app does not pin (another tenant's)
    foreign = json.loads(
        signing.sign(stranger.private_raw, stranger.key_id, canonical_json(document)).to_bytes()
    )
    stored(foreign)
    assert "pinned keys" in phone.grant_refusal("fake", "window", g1, now=0)
    assert len(_posts(phone.check("fake", g1))) == 1
    assert phone.grant_refusal("fake", "window", g1, now=WINDOW_END) == "the grant has run out"
    from chalicelib.services import signing_keys

    pinned = signing_keys.public_keys(tenant)  # the same keys: an app built for two workspaces
    other_workspace = _phone(TenantId(tenant.app_id, "other"), tmp_path / "phone", client, keys=pinned)
    assert other_workspace.grant_refusal("fake", "window", g1, now=0) == "the grant is for another workspace"

    # a genuine grant of this tenant, but stored for another device of the phone
    g2 = Device("android", user_id="g2", client_version="1.0")
    state = json.loads(state_file.read_text())
    genuine = next(iter(state["grants"].values()))
    g2_key = key.rsplit("|", 1)[0] + "|" + identity_hash("g2")
    state["grants"] = {g2_key: genuine}
    state_file.write_text(json.dumps(state))
    assert phone.grant_refusal("fake", "window", g2, now=0) == "the grant is for another device"
    assert len(_posts(phone.check("fake", g2))) == 1
    assert window.closed is False


def test_the_poll_interval_is_data_and_the_cdn_headers_follow_it(product, admin, demo, aws):
    import boto3

    from chalicelib.manifests.publisher import index_path, legacy_index_path
    from chalicelib.store import delivery as store
    from tests.conftest import ws_path

    tenant = TenantId(demo["appId"], demo["workspaceId"])
    _publish(tenant, [Candidate("a", compile_target(parse_target({})), {"resultStatus": 204})])
    s3 = boto3.client("s3", region_name="us-east-1")
    bucket = aws.buckets["DeliveryBucket"]

    def cache_control(path):
        return s3.head_object(Bucket=bucket, Key=path)["CacheControl"]

    index = decode(store.get_file(index_path(tenant, "android")))
    assert index["poll"] == {"seconds": 600, "staleIfError": 604800}  # the default
    assert cache_control(index_path(tenant, "android")) == (
        "public, max-age=600, stale-while-revalidate=600, stale-if-error=604800"
    )
    segment = index["products"]["fake"]["segments"][0]["path"]
    assert cache_control(segment) == "public, max-age=31536000, immutable"

    for bad, rule in ((30, "between 60 and 86400"), (86401, "between 60 and 86400"), ("600", "whole number")):
        refused = admin.put(ws_path(demo, "/delivery/settings"), {"pollSeconds": bad})
        assert refused.status == 400 and refused.body["field"] == "pollSeconds", refused.body
        assert rule in refused.body["message"]
    changed = admin.put(ws_path(demo, "/delivery/settings"), {"pollSeconds": 1800})
    assert changed.status == 200 and changed.body["pollSeconds"] == 1800
    assert admin.get(ws_path(demo, "/delivery/settings")).body["pollSeconds"] == 1800
    index = decode(store.get_file(index_path(tenant, "android")))
    assert index["poll"]["seconds"] == 1800 and index["sequence"] == 2  # re-published with it
    assert "max-age=1800, stale-while-revalidate=1800" in cache_control(index_path(tenant, "android"))
    assert "max-age=1800" in cache_control(legacy_index_path(tenant, "fake", "android"))

    admin.post(
        ws_path(demo, "/users"), {"username": "viewer7", "password": "a-long-password", "role": "viewer"}
    )
    token = admin.login("viewer7", "a-long-password")
    assert admin.put(ws_path(demo, "/delivery/settings"), {"pollSeconds": 900}, token=token).status == 403
    assert admin.get(ws_path(demo, "/delivery/settings"), token=token).body["pollSeconds"] == 1800


def test_one_index_per_platform_and_the_deprecated_per_product_indexes(product, client, tmp_path):
    """One conditional request per check round answers every product; a change in one product re-signs
    the platform's index and that product's deprecated index only, and no other product's segments."""
    from chalicelib.manifests.publisher import legacy_index_path
    from chalicelib.store import delivery as store

    tenant, _ = _tenant_with_whitelists()
    _publish(tenant, [Candidate("a", compile_target(parse_target({})), {"resultStatus": 204})])
    phone = _device_client(tenant, tmp_path, client)
    device = Device("android", client_version="1.0", user_id="x")
    products = ("fake", "upgrade", "config", "hotpatch", "h5")
    first = phone.check_round(device, products)
    assert first.requests[0] == f"GET /m/{tenant.app_id}/{tenant.workspace_id}/android/index.json 200"
    assert [r for r in first.requests if "index.json" in r] == first.requests[:1]
    assert first.decisions["fake"].answer["resultStatus"] == 204
    assert first.decisions["upgrade"].answer == {"resultStatus": 201, "userId": "x"}
    assert all(d.static for d in first.decisions.values())
    again = phone.check_round(device, products)
    assert again.requests == [f"GET /m/{tenant.app_id}/{tenant.workspace_id}/android/index.json 304"]

    legacy_before = {p: decode(store.get_file(legacy_index_path(tenant, p, "android"))) for p in products}
    assert legacy_before["fake"]["product"] == "fake" and legacy_before["fake"]["sequence"] == 1
    _publish(tenant, [Candidate("b", compile_target(parse_target({})), {"resultStatus": 206})])
    legacy_after = {p: decode(store.get_file(legacy_index_path(tenant, p, "android"))) for p in products}
    assert legacy_after["fake"]["sequence"] == 2
    assert all(legacy_after[p] == legacy_before[p] for p in products if p != "fake")  # not re-signed
    changed = phone.check_round(device, products)
    assert changed.decisions["fake"].answer["resultStatus"] == 206
    assert len(changed.requests) == 2  # the index, and the one new segment of the changed product

    old = _device_client(tenant, tmp_path, client)  # a protocol-1 client still works on the old paths
    old._protocol = 1
    legacy = old.check("fake", device)
    assert legacy.answer["resultStatus"] == 206 and legacy.requests[0].startswith(
        f"GET /{legacy_index_path(tenant, 'fake', 'android')} 200"
    )
