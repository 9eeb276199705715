"""Switch configuration delivered statically on moto: candidates and the one resolution order, the
reference ConfigClient (refresh interval, Load_Config_Interval, listeners, persistence), PRODUCT.md
story 7 (stable percentage), and the agreement property extended to config: the CDN path and the
dynamic check API give the same values."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chalicelib.domain.targeting import Device
from chalicelib.domain.tenancy import TenantId
from tests.conftest import ws_path
from tests.delivery_harness import BucketCdn, ChaliceApi, decode


def _tenant(demo) -> TenantId:
    return TenantId(demo["appId"], demo["workspaceId"])


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def phone(tenant, tmp_path, client, device: Device, clock=None):
    from chalicelib.services import signing_keys
    from mds.device.client import DeviceClient
    from mds.device.config import ConfigClient

    clock = clock or Clock()
    state = tmp_path / uuid.uuid4().hex
    device_client = DeviceClient(
        "http://cdn", "http://api", app_id=tenant.app_id, workspace_id=tenant.workspace_id,
        public_keys=signing_keys.public_keys(tenant), state_dir=state, transport=BucketCdn(),
        api_transport=ChaliceApi(client), clock=clock,
    )  # fmt: skip
    return ConfigClient(device_client, device, clock=clock)


def add(admin, demo, **item) -> dict:
    reply = admin.post(ws_path(demo, "/config/items"), item)
    assert reply.status == 201, reply.body
    return reply.body


def patch(admin, demo, key, **changes) -> dict:
    reply = admin.request("PATCH", ws_path(demo, f"/config/items/{key}"), changes)
    assert reply.status == 200, reply.body
    return reply.body


SHANGHAI_ANDROID_10 = {"platform": "android", "rules": [
    {"type": "city", "operation": 1, "values": ["Shanghai"]},
    {"type": "osVersion", "operation": 3, "ranges": [{"min": "10"}]},
]}  # fmt: skip


def test_first_matching_target_wins_then_the_default(admin, demo, client, tmp_path):
    add(admin, demo, key="greeting", type="string", value="hello", targetedValues=[
        {"value": "侬好", **SHANGHAI_ANDROID_10},
        {"value": "hi android 10+", "platform": "android", "rules": [SHANGHAI_ANDROID_10["rules"][1]]},
    ])  # fmt: skip
    add(admin, demo, key="ios_only", type="number", platform="ios", value=1)
    add(admin, demo, key="sleeping", type="boolean", value=True, active=False)
    add(
        admin,
        demo,
        key="only_targeted",
        type="string",
        targetedValues=[{"value": "x", **SHANGHAI_ANDROID_10}],
    )
    tenant = _tenant(demo)
    cases = [
        (Device("android", user_id="u1", city="Shanghai", os_version="11"), {"greeting": "侬好", "only_targeted": "x"}),
        (Device("android", user_id="u2", city="Beijing", os_version="11"), {"greeting": "hi android 10+"}),
        (Device("android", user_id="u3", city="Shanghai", os_version="9"), {"greeting": "hello"}),
        (Device("ios", user_id="u4", city="Shanghai", os_version="17"), {"greeting": "hello", "ios_only": 1}),
    ]  # fmt: skip
    for device, expected in cases:
        config = phone(tenant, tmp_path, client, device)
        config.load_config_immediately()
        assert {k: config.get_config(k) for k in config.keys()} == expected, device
        assert config.last_decision.static  # answered from the CDN alone
        assert config.get_config("sleeping", "fallback") == "fallback"  # inactive: not delivered


def test_manifests_carry_one_candidate_per_value_with_the_key_as_subject(admin, demo, aws):
    from chalicelib.manifests.publisher import index_path
    from chalicelib.store import delivery as store

    add(admin, demo, key="both", type="string", value="d", targetedValues=[{"value": "t", "whitelistIds": []
        , "rollout": {"percent": 50}}])  # fmt: skip
    tenant = _tenant(demo)
    for platform in ("android", "ios"):  # platform "all": in both manifests
        index = decode(store.get_file(index_path(tenant, platform)))
        segment = decode(store.get_file(index["products"]["config"]["unversioned"]["path"]))
        assert [(c["id"], c["subject"], c["payload"]) for c in segment["candidates"]] == [
            ("config:both:0", "both", {"type": "string", "value": "t"}),
            ("config:both:default", "both", {"type": "string", "value": "d"}),
        ]
        assert segment["candidates"][0]["target"]["rollout"] == {"basisPoints": 5000, "salt": "config:both"}


def test_listeners_fire_once_per_changed_key_and_the_interval_is_honoured(admin, demo, client, tmp_path):
    add(admin, demo, key="a", type="string", value="1")
    add(admin, demo, key="b", type="number", value=2)
    tenant, clock = _tenant(demo), Clock()
    device = Device("android", user_id="u1")
    config = phone(tenant, tmp_path, client, device, clock)
    heard: list[tuple[str, object]] = []
    only_b: list[object] = []
    assert config.add_config_change_listener(lambda k, v: heard.append((k, v)))
    assert config.add_config_change_listener(lambda k, v: only_b.append(v), key="b")

    assert config.load_config() == ["a", "b"]  # first load
    assert heard == [("a", "1"), ("b", 2)] and only_b == [2]
    patch(admin, demo, "a", value="changed")
    assert config.load_config() is None  # 30 minutes have not passed
    clock.now += 1799
    assert config.load_config() is None
    clock.now += 1
    assert config.load_config() == ["a"]
    assert heard[-1] == ("a", "changed") and only_b == [2]
    assert config.load_config_immediately() == []  # unchanged reload: nobody is called
    assert len(heard) == 3

    add(admin, demo, key="Load_Config_Interval", type="number", value=60)
    admin.post(ws_path(demo, "/config/items/b/disable"), {})
    assert config.load_config_immediately() == ["Load_Config_Interval", "b"]
    assert only_b == [2, None] and config.get_config("b", "gone") == "gone"
    assert config.interval == 60
    clock.now += 59
    assert config.load_config() is None
    clock.now += 1
    assert config.load_config() == []

    from mds.device.config import ConfigClient

    again = ConfigClient(config._client, device, clock=clock)
    assert again.get_config("a") == "changed" and again.interval == 60  # persisted values
    assert again.load_config() is None


def test_story_7_a_percentage_is_stable_and_growing_keeps_everyone_in(admin, demo, client, tmp_path):
    add(admin, demo, key="feed_v2", type="boolean", value=False, note="new feed")
    patch(
        admin,
        demo,
        "feed_v2",
        targetedValues=[{"value": True, **SHANGHAI_ANDROID_10, "rollout": {"percent": 20}}],
    )
    tenant = _tenant(demo)
    users = [f"user-{n}" for n in range(200)]
    phones = {
        u: phone(tenant, tmp_path, client, Device("android", user_id=u, city="Shanghai", os_version="11"))
        for u in users
    }

    def who_is_in() -> set[str]:
        found = set()
        for user, config in phones.items():
            config.load_config_immediately()
            if config.get_config("feed_v2"):
                found.add(user)
        return found

    at_20 = who_is_in()
    assert 20 <= len(at_20) <= 60  # about 20% of 200
    assert who_is_in() == at_20  # the same users across reloads
    patch(
        admin,
        demo,
        "feed_v2",
        targetedValues=[{"value": True, **SHANGHAI_ANDROID_10, "rollout": {"percent": 40}}],
    )
    at_40 = who_is_in()
    assert at_20 < at_40 and 50 <= len(at_40) <= 110  # everyone who was in stays in
    beijing = phone(
        tenant, tmp_path, client, Device("android", user_id=sorted(at_40)[0], city="Beijing", os_version="11")
    )
    beijing.load_config_immediately()
    assert beijing.get_config("feed_v2") is False  # the rule still applies


# --- the agreement property, extended to config ----------------------------------------------------

_RULES = [
    {"type": "city", "operation": 1, "values": ["Shanghai"]},
    {"type": "city", "operation": 2, "values": ["Beijing"]},
    {"type": "osVersion", "operation": 3, "ranges": [{"min": "10"}]},
    {"type": "network", "operation": 1, "values": ["Wi-Fi"]},
]

targeted = st.fixed_dictionaries(
    {"value": st.sampled_from(["t1", "t2", "t3"])},
    optional={
        "rules": st.lists(st.sampled_from(_RULES), min_size=1, max_size=2, unique_by=lambda r: str(r)),
        "clientVersions": st.sampled_from(
            [[{"min": "2.0"}], [{"max": "3.0"}], [{"min": "1.5", "max": "2.5"}]]
        ),
        "rollout": st.sampled_from([{"percent": 10}, {"percent": 50}, {"percent": 90}]),
        "platform": st.sampled_from(["android", "ios"]),
    },
).filter(lambda t: set(t) - {"value", "platform"})


def _same_platform(item: dict) -> dict:
    """A targeted value may name a platform only inside an item for all platforms."""
    if item["platform"] == "all":
        return item
    values = [{k: v for k, v in t.items() if k != "platform"} for t in item["targetedValues"]]
    return {**item, "targetedValues": values}


items = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.just("string"),
            "platform": st.sampled_from(["android", "ios", "all"]),
            "active": st.booleans(),
            "targetedValues": st.lists(targeted, max_size=3),
        },
        optional={"value": st.sampled_from(["d1", "d2"])},
    )
    .filter(lambda i: i.get("value") or i["targetedValues"])
    .map(_same_platform),
    min_size=1,
    max_size=5,
)

devices = st.fixed_dictionaries(
    {
        "platform": st.sampled_from(["android", "ios"]),
        "clientVersion": st.sampled_from(["1.0", "2.0", "2.5", "3.5"]),
        "userId": st.sampled_from([f"u{n}" for n in range(12)]),
        "city": st.sampled_from(["Shanghai", "Beijing", "Shenzhen"]),
        "netType": st.sampled_from(["WIFI", "4G"]),
        "osVersion": st.sampled_from(["9", "10", "13.1"]),
    }
).map(lambda d: {**d, "deviceId": "dev-" + d["userId"]})


@settings(
    max_examples=10,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking costs minutes on moto
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_config_manifest_path_and_api_path_agree(admin, demo, client, tmp_path, data):
    """Random items (targets, platforms, inactive ones) in a fresh workspace, random devices: the
    ConfigClient (CDN manifests) and the dynamic check API deliver exactly the same values."""
    from chalicelib.services import checks

    workspace = "w" + uuid.uuid4().hex[:8]
    creds = {"appId": demo["appId"], "workspaceId": workspace}
    assert admin.post("/api/workspaces", {**creds, "name": workspace}).status == 201
    for n, item in enumerate(data.draw(items)):
        add(admin, creds, key=f"key{n}", **item)
    tenant = TenantId(demo["appId"], workspace)
    for context in data.draw(st.lists(devices, min_size=20, max_size=20)):
        config = phone(tenant, tmp_path, client, Device.from_context(context))
        config.load_config_immediately()
        static = config.last_decision.answer
        dynamic = checks.check("config", {"appId": demo["appId"], "workspaceId": workspace, **context})
        assert static == dynamic, context
        assert config.last_decision.static


def test_the_console_preview_shows_a_devices_values(admin, demo):
    add(admin, demo, key="plain", type="string", value="p")
    add(
        admin,
        demo,
        key="greeting",
        type="string",
        value="hello",
        targetedValues=[{"value": "侬好", **SHANGHAI_ANDROID_10}],
    )
    body = {"platform": "android", "userId": "u1", "city": "Shanghai", "osVersion": "12"}
    products = admin.post(ws_path(demo, "/delivery/preview"), body).body["products"]
    config = next(p for p in products if p["product"] == "config")
    assert config["static"] is True
    assert config["answer"] == {"configs": {"plain": {"value": "p", "type": "string"},
                                            "greeting": {"value": "侬好", "type": "string"}}}  # fmt: skip
    assert {c["subject"]: c["candidateId"] for c in config["chosen"]} == {
        "": "config:*", "greeting": "config:greeting:0"}  # fmt: skip
