"""The rule engine (chalicelib/domain/targeting.py, rollout.py): semantics, validation, the compiled JSON
form, and properties against a deliberately naive reference evaluator."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import MissingParameter, ValidationError
from chalicelib.domain.rollout import Rollout, bucket, format_percent, parse_percent
from chalicelib.domain.targeting import (
    SCHEMA,
    CompiledTarget,
    Device,
    Operation,
    Platform,
    Rule,
    RuleType,
    Target,
    compile_target,
    normalize_network,
    parse_target,
)
from chalicelib.domain.versions import Version, VersionRange

ROOT = Path(__file__).resolve().parents[2]


class SetMembership:
    """What the server will provide: whitelist ID → set of user IDs, in memory."""

    def __init__(self, lists: dict[str, set[str]] | None = None) -> None:
        self.lists = lists or {}
        self.asked: list[tuple[str, str]] = []

    def contains(self, whitelist_id: str, user_id: str) -> bool:
        self.asked.append((whitelist_id, user_id))
        return user_id in self.lists.get(whitelist_id, ())


def device(**context: Any) -> Device:
    return Device.from_context({"platform": "android", **context})


def matches(target: dict[str, Any], membership: SetMembership | None = None, **context: Any) -> bool:
    return parse_target(target).compile().matches(device(**context), membership)


# ------------------------------------------------------------------------------------ story 3 and 5

STORY_3 = {
    "platform": "Android",
    "rules": [
        {"type": "city", "operation": 1, "values": ["Shanghai"]},
        {"type": "model", "operation": 2, "values": ["VIVO X5M"]},
        {"type": "osVersion", "operation": 3, "ranges": [{"min": "8.0", "max": "12.0"}]},
        {"type": "network", "operation": 1, "values": ["Wi-Fi"]},
    ],
}
GOOD_DEVICE = {
    "platform": "android",
    "city": "Shanghai",
    "model": "MI 9",
    "osVersion": "10",
    "netType": "WIFI",
}


def test_story_3_a_matching_device_gets_it():
    assert parse_target(STORY_3).compile().matches(Device.from_context(GOOD_DEVICE))


@pytest.mark.parametrize(
    "change",
    [
        {"platform": "ios"},
        {"city": "Beijing"},
        {"model": "vivo x5m"},
        {"osVersion": "7.1.2"},
        {"osVersion": "12.0.1"},
        {"netType": "4G"},
    ],
)
def test_story_3_each_dimension_alone_excludes(change):
    assert not parse_target(STORY_3).compile().matches(Device.from_context({**GOOD_DEVICE, **change}))


def test_story_5_client_ranges_compare_numerically():
    ios = parse_target({"platform": "ios", "clientVersions": [{"min": "10.1.32"}]}).compile()
    android = parse_target({"platform": "android", "clientVersions": [{"min": "10.2.0"}]}).compile()
    assert ios.matches(Device("ios", client_version="10.1.40"))
    assert not ios.matches(Device("ios", client_version="10.1.4"))
    assert android.matches(Device("android", client_version="10.2.0"))
    assert not android.matches(Device("ios", client_version="10.2.0"))


# ------------------------------------------------------------------------------------------ semantics


def test_empty_target_matches_everybody():
    assert matches({})
    assert matches({}, platform="ios")


def test_platform_all_matches_both_and_a_platform_only_itself():
    assert matches({"platform": "all"}, platform="ios")
    assert matches({"platform": "ANDROID"}, platform="Android")
    assert not matches({"platform": "iOS"}, platform="android")


def test_several_client_ranges_are_any_of():
    target = {"clientVersions": ["1.0-1.9", {"min": "3.0", "max": "3.5", "maxInclusive": False}]}
    assert matches(target, clientVersion="1.5")
    assert matches(target, clientVersion="3.4.9")
    assert not matches(target, clientVersion="3.5")
    assert not matches(target, clientVersion="2.0")


def test_no_client_version_fails_a_client_range_but_not_an_unrestricted_target():
    assert not matches({"clientVersions": [{"min": "1"}]})
    assert matches({"clientVersions": []})


@pytest.mark.parametrize(
    ("rule_type", "value", "field"),
    [("city", "Shanghai", "city"), ("model", "VIVO X5M", "model"), ("network", "Wi-Fi", "netType")],
)
def test_missing_value_fails_include_and_passes_exclude(rule_type, value, field):
    include = {"rules": [{"type": rule_type, "operation": 1, "values": [value]}]}
    exclude = {"rules": [{"type": rule_type, "operation": 2, "values": [value]}]}
    assert not matches(include)
    assert matches(exclude)
    assert not matches(include, **{field: ""})  # empty counts as missing
    assert matches(exclude, **{field: "   "})


def test_missing_os_version_fails_in_range_and_passes_out_of_range():
    in_range = {"rules": [{"type": "osVersion", "operation": 3, "values": ["8-12"]}]}
    out_of_range = {"rules": [{"type": "osVersion", "operation": 4, "values": ["8-12"]}]}
    assert not matches(in_range)
    assert matches(out_of_range)
    assert not matches(in_range, osVersion="Tiramisu")  # unparsable: unknown
    assert matches(in_range, osVersion="12.0 beta 3")  # lenient: 12.0


def test_os_version_include_compares_versions_not_text():
    target = {"rules": [{"type": "osVersion", "operation": 1, "values": ["10", "11.0"]}]}
    assert matches(target, osVersion="10.0.0")
    assert matches(target, osVersion="11")
    assert not matches(target, osVersion="10.1")


def test_city_and_model_are_case_insensitive():
    target = {"rules": [{"type": "city", "operation": 1, "values": [" shanghai "]}]}
    assert matches(target, city="SHANGHAI")
    assert matches(target, city="Shanghai ")
    target = {"rules": [{"type": "model", "operation": 2, "values": ["VIVO X5M", "REDMI NOTE 3"]}]}
    assert not matches(target, model="vivo x5m")
    assert matches(target, model="vivo x6")


def test_non_ascii_city_names():
    target = {"rules": [{"type": "city", "operation": 1, "values": ["上海市"]}]}
    assert matches(target, city="上海市")
    assert not matches(target, city="北京市")


@pytest.mark.parametrize(
    ("rule_value", "device_value", "expected"),
    [
        ("Wi-Fi", "WIFI", True),
        ("Wi-Fi", "wifi", True),
        ("WLAN", "Wi-Fi", True),
        ("wifi", "wlan", True),
        ("4G", "LTE", True),
        ("5G", "nr", True),
        ("4G", "4g", True),
        ("4G", "3G", False),
        ("4G", "WWAN", False),  # iOS "cellular": generation unknown
        ("Wi-Fi", "WWAN", False),
    ],
)
def test_network_synonyms(rule_value, device_value, expected):
    target = {"rules": [{"type": "network", "operation": 1, "values": [rule_value]}]}
    assert matches(target, netType=device_value) is expected


def test_normalize_network():
    assert normalize_network(" Wi-Fi ") == "wifi"
    assert normalize_network("WLAN") == "wifi"
    assert normalize_network("WWAN") == "wwan"


def test_all_rules_must_match():
    target = {
        "rules": [
            {"type": "city", "operation": 1, "values": ["Shanghai", "Beijing"]},
            {"type": "city", "operation": 2, "values": ["Beijing"]},
        ]
    }
    assert matches(target, city="shanghai")
    assert not matches(target, city="beijing")


# ---------------------------------------------------------------------------------------- whitelists


def test_whitelists_are_any_of_and_use_the_identity():
    target = parse_target({"whitelistIds": ["w1", "w2"]}).compile()
    lists = SetMembership({"w1": {"alice"}, "w2": {"bob", "device-9"}})
    assert target.matches(device(userId="alice"), lists)
    assert target.matches(device(userId="bob"), lists)
    assert not target.matches(device(userId="carol"), lists)
    assert target.matches(device(deviceId="device-9"), lists)  # no user ID: the device ID
    assert not target.matches(device(userId="carol", deviceId="device-9"), lists)  # user ID wins
    assert not target.matches(device(), lists)  # no identity at all


def test_whitelist_needs_membership():
    target = parse_target({"whitelistIds": ["w1"]}).compile()
    with pytest.raises(ValueError, match="WhitelistMembership"):
        target.matches(device(userId="alice"))
    with pytest.raises(ValueError, match="WhitelistMembership"):  # on every call, not only far ones
        parse_target({"platform": "ios", "whitelistIds": ["w1"]}).compile().matches(device(userId="alice"))
    assert parse_target({}).compile().matches(device(userId="alice"))  # not needed without whitelists


def test_whitelist_is_asked_last():
    target = parse_target({"platform": "ios", "whitelistIds": ["w1"]}).compile()
    lists = SetMembership({"w1": {"alice"}})
    assert not target.matches(device(userId="alice"), lists)
    assert lists.asked == []  # the platform already said no


# ------------------------------------------------------------------------------------------- rollout


def test_bucket_test_vectors():
    """The same vectors are in docs/targeting.md; device ports must reproduce them."""
    assert bucket("feed_v2", "user-1") == 2468
    assert bucket("feed_v2", "user-2") == 4435
    assert bucket("task-42", "alice") == 8934
    assert bucket("task-42", "13800138000") == 4011
    assert bucket("", "") == 4368
    assert bucket("盐", "用户") == 853


def test_bucket_is_the_documented_formula():
    digest = hashlib.sha256(b"feed_v2:user-1").digest()
    assert bucket("feed_v2", "user-1") == int.from_bytes(digest[:8], "big") % 10000


def test_zero_is_nobody_and_hundred_is_everybody():
    nobody = parse_target({"rollout": {"percent": 0, "salt": "s"}}).compile()
    everybody = parse_target({"rollout": {"percent": 100, "salt": "s"}}).compile()
    for i in range(200):
        assert not nobody.matches(device(userId=f"u{i}"))
        assert everybody.matches(device(userId=f"u{i}"))
    assert everybody.matches(device())  # even without an identity
    assert not parse_target({"rollout": {"percent": 50, "salt": "s"}}).compile().matches(device())


def test_rollout_share_is_close_to_the_percentage():
    target = parse_target({"rollout": {"percent": "12.5", "salt": "feed_v2"}}).compile()
    hits = sum(target.matches(device(userId=f"user-{i}")) for i in range(20000))
    assert 2300 < hits < 2700


@pytest.mark.parametrize("user", ["alice", "bob", "user-1"])
def test_rollout_boundary_is_exclusive(user):
    b = bucket("s", user)
    for basis_points, expected in ((b, False), (b + 1, True)):
        assert Target(rollout=Rollout(basis_points, "s")).compile().matches(device(userId=user)) is expected
        assert Rollout(basis_points, "s").includes(user) is expected


def test_rollout_falls_back_to_device_id():
    target = parse_target({"rollout": {"basisPoints": 5000, "salt": "s"}}).compile()
    for i in range(50):
        assert target.matches(device(deviceId=f"d{i}")) == (bucket("s", f"d{i}") < 5000)


def test_salts_give_independent_cohorts():
    a = parse_target({"rollout": {"percent": 50, "salt": "task-a"}}).compile()
    b = parse_target({"rollout": {"percent": 50, "salt": "task-b"}}).compile()
    both = [a.matches(device(userId=f"u{i}")) == b.matches(device(userId=f"u{i}")) for i in range(2000)]
    assert 800 < sum(both) < 1200  # agree about half the time, not always


@pytest.mark.parametrize(
    ("value", "basis_points"),
    [
        (0, 0),
        (100, 10000),
        (12, 1200),
        (12.5, 1250),
        ("12.34", 1234),
        (0.01, 1),
        ("1e1", 1000),
        ("7.50", 750),
    ],
)
def test_parse_percent(value, basis_points):
    assert parse_percent(value) == basis_points


@pytest.mark.parametrize("value", [-1, 100.01, 101, 12.345, 0.001, "abc", "", True, None, float("nan"), [1]])
def test_bad_percent(value):
    with pytest.raises(ValidationError) as exc:
        parse_percent(value, "rollout.percent")
    assert exc.value.field == "rollout.percent"


def test_format_percent():
    assert [format_percent(b) for b in (0, 1, 1000, 1250, 1205, 10000)] == [
        "0",
        "0.01",
        "10",
        "12.5",
        "12.05",
        "100",
    ]
    assert Rollout(1250, "s").percent == "12.5"


@given(st.text(max_size=20), st.text(min_size=1, max_size=20), st.integers(0, 10000), st.integers(0, 10000))
def test_percentage_is_monotonic(salt, user, p1, p2):
    low, high = sorted((p1, p2))
    salt = "s" + salt.replace("\x00", "")
    salt = "".join(c for c in salt if ord(c) >= 32 and ord(c) != 127)
    if Rollout(low, salt).includes(user):
        assert Rollout(high, salt).includes(user)  # in at 10% → still in at 20%
    assert Rollout(low, salt).includes(user) == (low == 10000 or bucket(salt, user) < low)


def test_story_7_raising_the_percentage_keeps_everyone_who_was_in():
    at = {p: parse_target({"rollout": {"percent": p, "salt": "feed_v2"}}).compile() for p in (20, 40)}
    users = [device(userId=f"user-{i}") for i in range(3000)]
    in_20 = {d.identity for d in users if at[20].matches(d)}
    in_40 = {d.identity for d in users if at[40].matches(d)}
    assert in_20 < in_40
    again = parse_target({"rollout": {"percent": 20, "salt": "feed_v2"}}).compile()
    assert {d.identity for d in users if again.matches(d)} == in_20  # same user, same answer


# -------------------------------------------------------------------------------------------- devices


def test_device_from_context():
    d = Device.from_context(
        {
            "platform": "iOS",
            "userId": "u1",
            "deviceId": "d1",
            "clientVersion": "10.1.32",
            "osVersion": "17.4.1",
            "model": " iPhone 15 ",
            "city": "Shanghai",
            "netType": "Wi-Fi",
            "channel": "appstore",
            "extra": "ignored",
        }
    )
    assert d.platform is Platform.IOS and d.identity == "u1"
    assert d.client_version == Version.parse("10.1.32") and d.os_version == Version.parse("17.4.1")
    assert (d.model_key, d.city_key, d.network_key, d.channel) == (
        "iphone 15",
        "shanghai",
        "wifi",
        "appstore",
    )


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({}, "platform"),
        ({"platform": "all"}, "platform"),
        ({"platform": "windows"}, "platform"),
        ({"platform": "android", "clientVersion": "1..0"}, "clientVersion"),
        ({"platform": "android", "clientVersion": "-beta"}, "clientVersion"),
        ({"platform": "android", "clientVersion": 10}, "clientVersion"),
        ({"platform": "android", "city": 5}, "city"),
        ({"platform": "android", "userId": ["x"]}, "userId"),
        ({"platform": "android", "userId": True}, "userId"),
        ({"platform": "android", "userId": 1.5}, "userId"),
        ({"platform": "android", "userId": 2**53}, "userId"),
        ({"platform": "android", "deviceId": -(2**53)}, "deviceId"),
    ],
)
def test_device_errors_name_the_field(context, field):
    with pytest.raises(ValidationError) as exc:
        Device.from_context(context)
    assert exc.value.field == field


def test_missing_platform_is_a_missing_parameter():
    with pytest.raises(MissingParameter):
        Device.from_context({"userId": "u"})


def test_device_is_frozen():
    d = device(userId="u")
    with pytest.raises(AttributeError):
        d.user_id = "v"  # type: ignore[misc]


# ------------------------------------------------------------------------------------------ validation

_RULE = {"type": "city", "operation": 1, "values": ["Shanghai"]}


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ([], "target"),
        ({"platform": "windows"}, "platform"),
        ({"platfrom": "ios"}, "platfrom"),
        ({"schema": 2}, "schema"),
        ({"clientVersions": {"min": "1"}}, "clientVersions"),
        ({"clientVersions": [{"min": "1"}, {"min": "3", "max": "2"}]}, "clientVersions[1].max"),
        ({"clientVersions": [{"min": "1..2"}]}, "clientVersions[0].min"),
        ({"clientVersions": ["12-8"]}, "clientVersions[0]"),
        ({"clientVersions": [{"min": "1", "minInclusive": False, "max": "1"}]}, "clientVersions[0].max"),
        ({"rules": {"type": "city"}}, "rules"),
        ({"rules": ["city"]}, "rules[0]"),
        ({"rules": [_RULE, _RULE, {**_RULE, "operation": 5}]}, "rules[2].operation"),
        ({"rules": [{**_RULE, "operation": True}]}, "rules[0].operation"),
        ({"rules": [{**_RULE, "operation": "include"}]}, "rules[0].operation"),
        ({"rules": [{**_RULE, "type": "channel"}]}, "rules[0].type"),
        ({"rules": [{"operation": 1, "values": ["x"]}]}, "rules[0].type"),
        ({"rules": [{"type": "city", "values": ["x"]}]}, "rules[0].operation"),
        ({"rules": [{**_RULE, "valeus": ["x"]}]}, "rules[0].valeus"),
        ({"rules": [{**_RULE, "values": []}]}, "rules[0].values"),
        ({"rules": [{"type": "city", "operation": 1}]}, "rules[0].values"),
        ({"rules": [{**_RULE, "values": "Shanghai"}]}, "rules[0].values"),
        ({"rules": [{**_RULE, "values": ["Shanghai", " "]}]}, "rules[0].values[1]"),
        ({"rules": [{**_RULE, "values": ["Shanghai", 3]}]}, "rules[0].values[1]"),
        ({"rules": [{**_RULE, "values": ["x" * 129]}]}, "rules[0].values[0]"),
        ({"rules": [{**_RULE, "values": ["a\nb"]}]}, "rules[0].values[0]"),
        ({"rules": [{**_RULE, "values": ["x"] * 1001}]}, "rules[0].values"),
        ({"rules": [{**_RULE, "operation": 3}]}, "rules[0].operation"),
        ({"rules": [{"type": "network", "operation": 1, "values": ["4G", "6G"]}]}, "rules[0].values[1]"),
        (
            {"rules": [{"type": "osVersion", "operation": 1, "values": ["8", "eight point one"]}]},
            "rules[0].values[1]",
        ),
        ({"rules": [{"type": "osVersion", "operation": 2, "values": ["beta"]}]}, "rules[0].values[0]"),
        ({"rules": [{"type": "osVersion", "operation": 3}]}, "rules[0].ranges"),
        ({"rules": [{"type": "osVersion", "operation": 3, "values": ["12-8"]}]}, "rules[0].values[0]"),
        (
            {"rules": [{"type": "osVersion", "operation": 4, "ranges": [{"min": "9", "max": "8"}]}]},
            "rules[0].ranges[0].max",
        ),
        ({"rules": [{**_RULE, "ranges": [{"min": "1"}]}]}, "rules[0].ranges"),
        ({"rules": [_RULE] * 33}, "rules"),
        ({"whitelistIds": "w1"}, "whitelistIds"),
        ({"whitelistIds": ["w1", ""]}, "whitelistIds[1]"),
        ({"whitelistIds": ["w 1"]}, "whitelistIds[0]"),
        ({"whitelistIds": ["w1,w2"]}, "whitelistIds[0]"),
        ({"whitelistIds": [f"w{i}" for i in range(21)]}, "whitelistIds"),
        ({"rollout": 10}, "rollout"),
        ({"rollout": {"percent": 101, "salt": "s"}}, "rollout.percent"),
        ({"rollout": {"percent": -0.5, "salt": "s"}}, "rollout.percent"),
        ({"rollout": {"percent": 12.345, "salt": "s"}}, "rollout.percent"),
        ({"rollout": {"basisPoints": 10001, "salt": "s"}}, "rollout.basisPoints"),
        ({"rollout": {"basisPoints": 10.0, "salt": "s"}}, "rollout.basisPoints"),
        ({"rollout": {"percent": 1, "basisPoints": 100, "salt": "s"}}, "rollout.percent"),
        ({"rollout": {"salt": "s"}}, "rollout.percent"),
        ({"rollout": {"percent": 10}}, "rollout.salt"),
        ({"rollout": {"percent": 10, "salt": ""}}, "rollout.salt"),
        ({"rollout": {"percent": 10, "salt": "a\tb"}}, "rollout.salt"),
        ({"rollout": {"percent": 10, "salt": "s", "seed": 1}}, "rollout.seed"),
    ],
)
def test_bad_input_names_the_field(target, field):
    with pytest.raises(ValidationError) as exc:
        parse_target(target)
    assert exc.value.field == field


def test_error_path_prefix():
    with pytest.raises(ValidationError) as exc:
        parse_target({"rules": [{**_RULE, "operation": 9}]}, path="target")
    assert exc.value.field == "target.rules[0].operation"
    assert exc.value.message.startswith("target.rules[0].operation: must be 1 (include)")


def test_direct_construction_validates_too():
    with pytest.raises(ValidationError) as exc:
        Rule(RuleType.CITY, Operation.IN_RANGE, ranges=(VersionRange(),))
    assert exc.value.field == "operation"
    with pytest.raises(ValidationError) as exc:
        Rule(RuleType.CITY, Operation.INCLUDE, ())
    assert exc.value.field == "values"
    with pytest.raises(ValidationError) as exc:
        Target(rules=("city",))  # type: ignore[arg-type]
    assert exc.value.field == "rules[0]"
    with pytest.raises(ValidationError) as exc:
        Rollout(10001, "s")
    assert exc.value.field == "percent"
    with pytest.raises(TypeError):
        compile_target({"platform": "all"})  # type: ignore[arg-type]


def test_aliases_accepted_at_the_boundary():
    target = parse_target(
        {
            "platform": "iOS",
            "rules": [
                {"type": "mobileModel", "operation": "2", "values": ["REDMI NOTE 3"]},
                {"type": "netType", "operation": 1, "values": ["WLAN"]},
                {"type": "OSVERSION", "operation": 3, "values": ["9.2.1-9.2.1"]},
            ],
            "rollout": {"percent": "10", "salt": "s"},
        }
    )
    assert [r.type for r in target.rules] == [RuleType.MODEL, RuleType.NETWORK, RuleType.OS_VERSION]
    assert target.rules[2].ranges == (VersionRange(Version.parse("9.2.1"), Version.parse("9.2.1")),)
    assert target.platform is Platform.IOS and target.rollout == Rollout(1000, "s")


def test_target_input_form_round_trips():
    target = parse_target(
        {**STORY_3, "whitelistIds": ["w2", "w1"], "rollout": {"percent": 12.5, "salt": "x"}}
    )
    assert parse_target(target.to_json()) == target
    assert target.to_json()["rules"][0]["values"] == ["Shanghai"]  # as written, for the console


# --------------------------------------------------------------------------------------- JSON schema 1


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str)
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


def test_compiled_json_is_canonical():
    a = parse_target(
        {
            "platform": "android",
            "clientVersions": [{"min": "2.0", "max": "3"}, {"min": "1.0.0", "max": "2.0"}],
            "rules": [
                {"type": "network", "operation": 1, "values": ["WLAN", "Wi-Fi", "4G"]},
                {"type": "city", "operation": 1, "values": ["Shanghai", "beijing", "SHANGHAI"]},
            ],
            "whitelistIds": ["w2", "w1", "w2"],
            "rollout": {"percent": 10, "salt": "feed"},
        }
    ).compile()
    b = parse_target(
        {
            "platform": "Android",
            "clientVersions": [{"min": "1", "max": "3.0"}],
            "rules": [
                {"type": "city", "operation": 1, "values": ["Beijing", "shanghai"]},
                {"type": "network", "operation": 1, "values": ["4g", "wifi"]},
            ],
            "whitelistIds": ["w1", "w2"],
            "rollout": {"basisPoints": 1000, "salt": "feed"},
        }
    ).compile()
    assert (
        a.to_json()
        == b.to_json()
        == {
            "schema": 1,
            "platform": "android",
            "clientVersions": [{"min": "1", "max": "3", "minInclusive": True, "maxInclusive": True}],
            "rules": [
                {"type": "city", "operation": 1, "values": ["beijing", "shanghai"]},
                {"type": "network", "operation": 1, "values": ["4g", "wifi"]},
            ],
            "whitelistIds": ["w1", "w2"],
            "rollout": {"basisPoints": 1000, "salt": "feed"},
        }
    )


def test_from_json_needs_schema_1():
    body = parse_target({}).compile().to_json()
    assert CompiledTarget.from_json(body).to_json() == body
    for bad in (
        {**body, "schema": 2},
        {**body, "schema": True},
        {k: v for k, v in body.items() if k != "schema"},
    ):
        with pytest.raises(ValidationError) as exc:
            CompiledTarget.from_json(bad)
        assert exc.value.field == "schema"
    with pytest.raises(ValidationError):
        CompiledTarget.from_json("{}")
    with pytest.raises(ValidationError) as exc:
        CompiledTarget.from_json({**body, "rules": [{"type": "city", "operation": 7, "values": ["x"]}]})
    assert exc.value.field == "rules[0].operation"


def test_compiled_targets_are_immutable_values():
    a = parse_target(
        {"rules": [{"type": "city", "operation": 1, "values": ["Shanghai", "Beijing"]}]}
    ).compile()
    b = parse_target(
        {"rules": [{"type": "city", "operation": 1, "values": ["beijing", "SHANGHAI"]}]}
    ).compile()
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != parse_target({}).compile()
    with pytest.raises(AttributeError):
        a.whitelist_ids = ("w1",)  # type: ignore[misc]
    assert "shanghai" in repr(a)


def test_to_json_returns_a_copy():
    compiled = parse_target(STORY_3).compile()
    compiled.to_json()["rules"].clear()
    assert len(compiled.to_json()["rules"]) == 4


def test_docs_example_is_a_canonical_schema_1_document():
    """docs/targeting.md's example must be exactly what the code writes for it."""
    text = (ROOT / "docs" / "targeting.md").read_text()
    block = re.search(r"<!-- example:compiled -->\s*```json\n(.*?)```", text, re.DOTALL)
    assert block, "docs/targeting.md lost its compiled example"
    example = json.loads(block.group(1))
    assert example["schema"] == SCHEMA
    assert CompiledTarget.from_json(example).to_json() == example


# ------------------------------------------------------------------ reference evaluator and properties


def _naive_version_key(text: str) -> list[tuple[int, str]]:
    parts = []
    for part in text.strip().split("."):
        digits = re.match(r"[0-9]*", part).group()  # type: ignore[union-attr]
        parts.append((int(digits or "0"), part[len(digits) :].lower()))
    return parts


def _naive_cmp(a: str, b: str) -> int:
    ka, kb = _naive_version_key(a), _naive_version_key(b)
    for x, y in itertools.zip_longest(ka, kb, fillvalue=(0, "")):
        if x != y:
            return -1 if x < y else 1
    return 0


def _naive_in(text: str, r: VersionRange) -> bool:
    if r.min is not None:
        c = _naive_cmp(text, str(r.min))
        if c < 0 or (c == 0 and not r.min_inclusive):
            return False
    if r.max is not None:
        c = _naive_cmp(text, str(r.max))
        if c > 0 or (c == 0 and not r.max_inclusive):
            return False
    return True


_NAIVE_NETWORK = {"wifi": "wifi", "wi-fi": "wifi", "wlan": "wifi", "lte": "4g", "nr": "5g"}


def _naive_net(text: str) -> str:
    text = text.strip().lower()
    return _NAIVE_NETWORK.get(text, text)


def reference_matches(target: Target, ctx: dict[str, str], lists: dict[str, set[str]]) -> bool:
    """Deliberately naive: straight from the documented semantics, no precomputation, no shared helpers
    beyond the Target's own fields."""
    if target.platform.value != "all" and target.platform.value != ctx["platform"].lower():
        return False
    if target.client_versions:
        cv = ctx.get("clientVersion")
        if not cv or not any(_naive_in(cv, r) for r in target.client_versions):
            return False
    for rule in target.rules:
        if rule.type is RuleType.OS_VERSION:
            value = ctx.get("osVersion") or None
            if rule.operation.is_range:
                hit = value is not None and any(_naive_in(value, r) for r in rule.ranges)
            else:
                hit = value is not None and any(_naive_cmp(value, v) == 0 for v in rule.values)
        else:
            field = {RuleType.CITY: "city", RuleType.MODEL: "model", RuleType.NETWORK: "netType"}[rule.type]
            value = ctx.get(field)
            if rule.type is RuleType.NETWORK:
                hit = value is not None and any(_naive_net(value) == _naive_net(v) for v in rule.values)
            else:
                hit = value is not None and any(
                    value.strip().lower() == v.strip().lower() for v in rule.values
                )
        if rule.operation in (Operation.INCLUDE, Operation.IN_RANGE) and not hit:
            return False
        if rule.operation in (Operation.EXCLUDE, Operation.OUT_OF_RANGE) and hit:
            return False
    identity = ctx.get("userId") or ctx.get("deviceId")
    if target.rollout is not None and target.rollout.basis_points < 10000:
        if not identity:
            return False
        digest = hashlib.sha256((target.rollout.salt + ":" + identity).encode("utf-8")).hexdigest()
        if int(digest[:16], 16) % 10000 >= target.rollout.basis_points:
            return False
    if target.whitelist_ids:
        if not identity:
            return False
        return any(identity in lists.get(w, set()) for w in target.whitelist_ids)
    return True


VERSION_TEXTS = [
    "0",
    "1",
    "1.0",
    "1.0.0",
    "2",
    "2.5",
    "8",
    "8.0.1",
    "9.2.1",
    "10",
    "10.1.4",
    "10.1.32",
    "12",
    "1a",
]
CITIES = ["Shanghai", "shanghai", "SHANGHAI ", "Beijing", "上海市", "Hangzhou"]
MODELS = ["VIVO X5M", "vivo x5m", "MI 9", "iPhone 15"]
NETWORKS = ["2G", "3G", "4G", "5G", "Wi-Fi", "WLAN", "wifi", "LTE", "NR"]
DEVICE_NETWORKS = [*NETWORKS, "WWAN", "unknown"]
USERS = ["alice", "bob", "carol", "dave", "u1", "u2", "u3"]
LISTS = {"w1": {"alice", "bob"}, "w2": {"carol", "d1"}, "w3": set()}

version_texts = st.sampled_from(VERSION_TEXTS)


@st.composite
def version_ranges(draw) -> VersionRange:
    low = draw(st.none() | version_texts.map(Version.parse))
    high = draw(st.none() | version_texts.map(Version.parse))
    if low is not None and high is not None and high < low:
        low, high = high, low
    low_inclusive, high_inclusive = draw(st.booleans()), draw(st.booleans())
    if low is not None and high is not None and low == high:
        low_inclusive = high_inclusive = True
    return VersionRange(low, high, low_inclusive, high_inclusive)


@st.composite
def rules(draw) -> Rule:
    rule_type = draw(st.sampled_from(list(RuleType)))
    if rule_type is RuleType.OS_VERSION:
        operation = draw(st.sampled_from(list(Operation)))
    else:
        operation = draw(st.sampled_from([Operation.INCLUDE, Operation.EXCLUDE]))
    if operation.is_range:
        return Rule(
            rule_type, operation, ranges=tuple(draw(st.lists(version_ranges(), min_size=1, max_size=3)))
        )
    pool = {RuleType.CITY: CITIES, RuleType.MODEL: MODELS, RuleType.NETWORK: NETWORKS}.get(
        rule_type, VERSION_TEXTS
    )
    return Rule(rule_type, operation, tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))))


@st.composite
def targets(draw) -> Target:
    rollout = draw(
        st.none()
        | st.builds(
            Rollout,
            st.sampled_from([0, 1, 1000, 5000, 9999, 10000]) | st.integers(0, 10000),
            st.sampled_from(["s", "feed_v2", "task-1"]),
        )
    )
    return Target(
        platform=draw(st.sampled_from(list(Platform))),
        client_versions=tuple(draw(st.lists(version_ranges(), max_size=3))),
        rules=tuple(draw(st.lists(rules(), max_size=4))),
        whitelist_ids=tuple(draw(st.lists(st.sampled_from(sorted(LISTS)), max_size=2))),
        rollout=rollout,
    )


@st.composite
def contexts(draw) -> dict[str, str]:
    ctx = {"platform": draw(st.sampled_from(["android", "ios", "Android", "iOS"]))}
    for key, pool in (
        ("userId", USERS),
        ("deviceId", ["d1", "d2"]),
        ("clientVersion", VERSION_TEXTS),
        ("osVersion", VERSION_TEXTS),
        ("city", CITIES),
        ("model", MODELS),
        ("netType", DEVICE_NETWORKS),
    ):
        value = draw(st.none() | st.sampled_from(pool))
        if value is not None:
            ctx[key] = value
    return ctx


@settings(max_examples=400)
@given(targets(), st.lists(contexts(), min_size=1, max_size=8))
def test_compiled_evaluation_equals_the_reference(target, ctxs):
    compiled = compile_target(target)
    membership = SetMembership(LISTS)
    for ctx in ctxs:
        expected = reference_matches(target, ctx, LISTS)
        event(f"matches={expected}")  # both outcomes must be common: see --hypothesis-show-statistics
        assert compiled.matches(Device.from_context(ctx), membership) == expected


@settings(max_examples=300)
@given(targets(), st.lists(contexts(), min_size=1, max_size=8))
def test_json_round_trip_keeps_json_and_behaviour(target, ctxs):
    compiled = compile_target(target)
    body = compiled.to_json()
    text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    again = CompiledTarget.from_json(json.loads(text))
    assert again.to_json() == body
    assert again == compiled
    assert json.dumps(again.to_json(), sort_keys=True, ensure_ascii=False) == text
    assert not any(isinstance(v, float) for v in _walk(body))
    assert body["whitelistIds"] == sorted(set(body["whitelistIds"]))
    for rule in body["rules"]:
        if "values" in rule and rule["type"] != "osVersion":
            assert rule["values"] == sorted(set(rule["values"]))
    membership = SetMembership(LISTS)
    for ctx in ctxs:
        d = Device.from_context(ctx)
        assert again.matches(d, membership) == compiled.matches(d, membership)


@given(rules(), st.lists(contexts(), min_size=1, max_size=8))
def test_exclude_is_the_complement_of_include(rule, ctxs):
    flipped = {
        Operation.INCLUDE: Operation.EXCLUDE,
        Operation.EXCLUDE: Operation.INCLUDE,
        Operation.IN_RANGE: Operation.OUT_OF_RANGE,
        Operation.OUT_OF_RANGE: Operation.IN_RANGE,
    }[rule.operation]
    one = Target(rules=(rule,)).compile()
    other = Target(rules=(Rule(rule.type, flipped, rule.values, rule.ranges),)).compile()
    for ctx in ctxs:
        d = Device.from_context(ctx)
        assert one.matches(d) != other.matches(d)


# ------------------------------------------------------------------------- input grammar (docs: "Input grammar")


@pytest.mark.parametrize(
    ("reported", "reads_as"),
    [("v10.2", "10.2"), ("V10.2", "10.2"), ("10.2.0-beta", "10.2.0"), ("10.2.0+build5", "10.2.0"),
     ("v10.2.0-rc.1+exp.sha.5114f85", "10.2.0"), (" 10.2 ", "10.2")],
)  # fmt: skip
def test_reported_client_versions_drop_v_pre_release_and_build(reported, reads_as):
    d = Device.from_context({"platform": "android", "clientVersion": reported})
    assert d.client_version == Version.parse(reads_as)
    assert d.client_version > Version.parse("1.0")  # v10.2 used to sort below 1.0


def test_integer_user_ids_are_their_decimal_text():
    d = Device.from_context({"platform": "ios", "userId": 12345, "deviceId": 0})
    assert (d.user_id, d.device_id, d.identity) == ("12345", "0", "12345")
    listed = parse_target({"whitelistIds": ["w"]}).compile()
    assert listed.matches(d, SetMembership({"w": {"12345"}}))
    assert Device.from_context({"platform": "ios", "userId": 2**53 - 1}).user_id == str(2**53 - 1)


def test_no_identity_joins_a_rollout_only_at_100_percent():
    anonymous = Device.from_context({"platform": "android"})
    assert not parse_target({"rollout": {"basisPoints": 9999, "salt": "s"}}).compile().matches(anonymous)
    assert parse_target({"rollout": {"basisPoints": 10000, "salt": "s"}}).compile().matches(anonymous)


@pytest.mark.parametrize(
    ("rule_value", "device_city", "matches"),
    [("istanbul", "İSTANBUL", False), ("i̇stanbul", "İSTANBUL", True), ("straße", "STRASSE", False),
     ("STRASSE", "strasse", True), ("Straße", "STRAẞE", True), ("οδος", "ΟΔΟΣ", True)],
)  # fmt: skip
def test_text_folds_with_unicode_lower_not_casefold(rule_value, device_city, matches):
    target = parse_target({"rules": [{"type": "city", "operation": 1, "values": [rule_value]}]}).compile()
    assert target.matches(Device.from_context({"platform": "ios", "city": device_city})) is matches


def test_networks_as_the_mpaas_sdks_report_them():
    """Android's NetworkUtils codes (1 2G, 2 3G, 3 Wi-Fi, 4 4G) and iOS's WWAN (any mobile network)."""
    from chalicelib.domain.targeting import reported_network

    assert [reported_network(code) for code in ("1", "2", " 3 ", "4", "9")] == ["2g", "3g", "wifi", "4g", "9"]
    assert Device.from_context({"platform": "android", "netType": 3}).network_key == "wifi"
    assert Device.from_context({"platform": "ios", "netType": "WWAN"}).network_key == "wwan"

    def matches(values: list[str], operation: int, net_type: object) -> bool:
        rule = {"type": "network", "operation": operation, "values": values}
        device = Device.from_context({"platform": "android", "netType": net_type})
        return compile_target(parse_target({"rules": [rule]})).matches(device, None)

    assert matches(["Wi-Fi"], 1, "3") and not matches(["Wi-Fi"], 1, "4")
    assert matches(["WWAN"], 1, "4") and matches(["WWAN"], 1, "WWAN") and not matches(["WWAN"], 1, "3")
    assert not matches(["4G"], 1, "WWAN")  # a WWAN device's generation is unknown
    assert matches(["cellular"], 2, "3") and not matches(["cellular"], 2, 1)
    with pytest.raises(ValidationError) as refused:  # codes are device values, never rule values
        parse_target({"rules": [{"type": "network", "operation": 1, "values": ["3"]}]})
    assert refused.value.field == "rules[0].values[0]"
