"""The pure switch-configuration domain: keys, types and values, items and their JSON form, the one
resolution order, the refresh interval and history diffs."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.config import (
    DEFAULT_INTERVAL_SECONDS,
    ValueType,
    answer,
    candidates,
    check_key,
    diff,
    export_document,
    interval_seconds,
    manifest_candidates,
    normalize_value,
    parse_import,
    parse_item,
    typed_value,
)
from chalicelib.domain.delivery import decide_each
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.targeting import Device, Platform


def error_field(fn, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as caught:
        fn(*args, **kwargs)
    return caught.value.field


@pytest.mark.parametrize("key", ["a", "feed_v2", "Load_Config_Interval", "a.b-c_d", "x" * 128])
def test_valid_keys(key):
    assert check_key(key) == key


@pytest.mark.parametrize("key", ["", "has space", "a/b", "ключ", "x" * 129, "a#b", None, 3])
def test_invalid_keys(key):
    assert error_field(check_key, key) == "key"


@pytest.mark.parametrize(
    ("value_type", "given", "stored"),
    [
        ("string", "hello", "hello"),
        ("string", "", ""),
        ("number", 3, "3"),
        ("number", "-0.5", "-0.5"),
        ("number", " 1e3 ", "1e3"),
        ("number", 2.5, "2.5"),
        ("boolean", True, "true"),
        ("boolean", "FALSE", "false"),
        ("json", {"b": 1, "a": [1, 2]}, '{"a":[1,2],"b":1}'),
        ("json", '{"a": 1}', '{"a": 1}'),
        ("json", "[1, 2]", "[1, 2]"),
    ],
)
def test_values_are_stored_as_text_of_their_type(value_type, given, stored):
    assert normalize_value(ValueType(value_type), given) == stored


@pytest.mark.parametrize(
    ("value_type", "given"),
    [
        ("string", 3),
        ("number", "ten"),
        ("number", "01"),
        ("number", True),
        ("number", float("nan")),
        ("number", "1e999"),
        ("boolean", "yes"),
        ("boolean", 1),
        ("json", "{not json"),
    ],
)
def test_a_value_not_matching_its_type_is_refused(value_type, given):
    with pytest.raises(ValidationError) as caught:
        normalize_value(ValueType(value_type), given)
    assert caught.value.field == "value" and value_type in caught.value.rule or "finite" in caught.value.rule


def test_typed_values_are_what_apps_read():
    assert typed_value("number", "3") == 3 and typed_value("number", "0.5") == 0.5
    assert typed_value("boolean", "true") is True and typed_value("json", '{"a":1}') == {"a": 1}
    assert typed_value("string", "3") == "3"


CITY = {"type": "city", "operation": 1, "values": ["Shanghai"]}


def test_item_round_trips_through_its_json_form():
    item = parse_item({
        "key": "feed", "type": "boolean", "platform": "Android", "note": " new feed ", "value": False,
        "targetedValues": [
            {"value": True, "rules": [CITY], "rollout": {"percent": 20}},
            {"value": "true", "whitelistIds": ["12"], "clientVersions": [{"min": "2.0"}]},
        ],
    })  # fmt: skip
    assert item.platform is Platform.ANDROID and item.note == "new feed" and item.value == "false"
    assert item.targeted[0].target.rollout.salt == "config:feed"  # stable per key
    data = item.to_json()
    assert parse_item(data) == item and parse_item(json.loads(json.dumps(data))) == item
    assert data["targetedValues"][0] == {
        "value": "true", "rules": [CITY], "rollout": {"basisPoints": 2000, "salt": "config:feed"}}  # fmt: skip


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"type": "string", "value": "x"}, "key"),
        ({"key": "k", "value": "x"}, "type"),
        ({"key": "k", "type": "text", "value": "x"}, "type"),
        ({"key": "k", "type": "string"}, "value"),
        ({"key": "k", "type": "string", "value": "x", "platform": "windows"}, "platform"),
        ({"key": "k", "type": "string", "value": "x", "colour": "red"}, "colour"),
        ({"key": "k", "type": "string", "value": "x", "active": "yes"}, "active"),
        ({"key": "k", "type": "string", "value": "x", "note": "n" * 501}, "note"),
        ({"key": "k", "type": "number", "targetedValues": [{"value": "x", "rules": [CITY]}]}, "targetedValues[0].value"),
        ({"key": "k", "type": "string", "targetedValues": [{"value": "x"}]}, "targetedValues[0]"),
        ({"key": "k", "type": "string", "targetedValues": [{"rules": [CITY]}]}, "targetedValues[0].value"),
        ({"key": "k", "type": "string", "targetedValues": [{"value": "x", "rollout": {"percent": 101}}]},
         "targetedValues[0].rollout.percent"),
        ({"key": "k", "type": "string", "targetedValues": [{"value": "x", "rules": [{"type": "weather", "operation": 1, "values": ["sun"]}]}]},
         "targetedValues[0].rules[0].type"),
        ({"key": "k", "type": "string", "platform": "ios", "targetedValues": [{"value": "x", "platform": "android", "rules": [CITY]}]},
         "targetedValues[0].platform"),
        ({"key": "k", "type": "string", "value": "v" * 16385}, "value"),
        ({"key": "k", "type": "string", "targetedValues": [{"value": "v" * 16000, "rules": [CITY]}] * 10}, "targetedValues"),
    ],
)  # fmt: skip
def test_bad_items_name_the_field(item, field):
    assert error_field(parse_item, item) == field


def test_errors_inside_an_import_carry_the_item_index():
    assert error_field(parse_item, {"key": "k k"}, path="items[7]") == "items[7].key"
    assert parse_import({"schema": 1, "items": []}) == [] and parse_import([{"a": 1}]) == [{"a": 1}]
    assert error_field(parse_import, {"things": []}) == "items"
    assert error_field(parse_import, "text") == "items"


def resolve(items, device):
    found = [c for item in items for c in candidates(item, device.platform)]
    return answer(decide_each(found, device, None, now=0), device)["configs"]


def test_the_first_matching_target_wins_then_the_default():
    item = parse_item({"key": "k", "type": "string", "value": "default", "targetedValues": [
        {"value": "shanghai 10+", "rules": [CITY, {"type": "osVersion", "operation": 3, "ranges": [{"min": "10"}]}]},
        {"value": "shanghai", "rules": [CITY]},
        {"value": "ios", "platform": "ios", "rules": [CITY]},
    ]})  # fmt: skip
    assert (
        resolve([item], Device("android", city="Shanghai", os_version="11"))["k"]["value"] == "shanghai 10+"
    )
    assert resolve([item], Device("android", city="Shanghai", os_version="9"))["k"]["value"] == "shanghai"
    assert (
        resolve([item], Device("ios", city="Shanghai", os_version="9"))["k"]["value"] == "shanghai"
    )  # order
    assert resolve([item], Device("android", city="Beijing"))["k"] == {"value": "default", "type": "string"}
    assert [c.id for c in candidates(item, Platform.ANDROID)] == [
        "config:k:0",
        "config:k:1",
        "config:k:default",
    ]
    assert len(candidates(item, Platform.IOS)) == 4


def test_platform_inactive_and_default_less_items():
    android = parse_item({"key": "a", "type": "string", "platform": "android", "value": "x"})
    off = parse_item({"key": "off", "type": "string", "value": "x", "active": False})
    targeted_only = parse_item(
        {"key": "t", "type": "string", "targetedValues": [{"value": "x", "rules": [CITY]}]}
    )
    assert candidates(android, Platform.IOS) == [] and candidates(off, Platform.ANDROID) == []
    assert resolve([android, off, targeted_only], Device("android", city="Beijing")) == {
        "a": {"value": "x", "type": "string"}
    }


@given(st.integers(0, 100), st.integers(0, 100), st.lists(st.text(min_size=1, max_size=8), max_size=30))
def test_raising_a_percentage_keeps_everyone_who_was_in(low, high, users):
    low, high = sorted((low, high))

    def cohort(percent: int) -> set[str]:
        item = parse_item({"key": "feed_v2", "type": "boolean", "value": False,
                           "targetedValues": [{"value": True, "rollout": {"percent": percent}}]})  # fmt: skip
        return {
            u for u in users if resolve([item], Device("android", user_id=u))["feed_v2"]["value"] == "true"
        }

    assert cohort(low) <= cohort(high)


def test_refresh_interval():
    assert interval_seconds({}) == DEFAULT_INTERVAL_SECONDS == 1800
    assert interval_seconds({"Load_Config_Interval": {"value": "60", "type": "number"}}) == 60
    assert interval_seconds({"Load_Config_Interval": {"value": "soon", "type": "string"}}) == 1800
    assert interval_seconds({"Load_Config_Interval": {"value": "-5", "type": "number"}}) == 1800


def test_search_diff_and_export():
    item = parse_item({"key": "Banner", "type": "string", "value": "Hello", "note": "Home page",
                       "targetedValues": [{"value": "Crimson", "rules": [CITY]}]})  # fmt: skip
    assert all(item.matches_keyword(k) for k in ("banner", "HOME", "hello", "crim"))
    assert not item.matches_keyword("shanghai")  # rules are not searched, values are
    changed = parse_item({**item.to_json(), "value": "Hi", "targetedValues": []})
    assert diff(item.to_json(), changed.to_json()) == [
        {"field": "value", "before": "Hello", "after": "Hi"},
        {"field": "targetedValues[0]", "before": item.to_json()["targetedValues"][0], "after": None},
    ]
    assert diff(None, item.to_json())[0] == {"field": "type", "before": None, "after": "string"}
    document = export_document([changed, item.__class__(**{**item.__dict__, "key": "a"})])
    assert [i["key"] for i in document["items"]] == ["Banner", "a"] and document["schema"] == 1


def test_keys_with_nothing_to_decide_travel_in_one_candidate_with_the_same_answers():
    plain = [parse_item({"key": f"p{n}", "type": "number", "value": n}) for n in range(5)]
    ios_only = parse_item({"key": "ios_t", "type": "string", "value": "d",
                           "targetedValues": [{"value": "t", "platform": "ios", "rules": [CITY]}]})  # fmt: skip
    targeted = parse_item(
        {"key": "t", "type": "string", "value": "d", "targetedValues": [{"value": "x", "rules": [CITY]}]}
    )
    items = [*plain, ios_only, targeted]
    found = manifest_candidates(items, Platform.ANDROID)
    assert [c.id for c in found] == ["config:*", "config:t:0", "config:t:default"]
    assert sorted(found[0].payload["configs"]) == ["ios_t", "p0", "p1", "p2", "p3", "p4"]
    for device in (Device("android", city="Shanghai"), Device("android", city="Beijing")):
        bundled = answer(decide_each(found, device, None, now=0), device)
        assert bundled == {"configs": resolve(items, device)}
    assert [c.id for c in manifest_candidates(items, Platform.IOS)][:3] == [
        "config:*",
        "config:ios_t:0",
        "config:ios_t:default",
    ]
