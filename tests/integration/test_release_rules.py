"""Release-rule resources through the console API on moto."""

from __future__ import annotations

import pytest

from tests.conftest import ws_path


def _add(admin, demo, **body):
    return admin.post(ws_path(demo, "/release-rules"), body)


def test_crud_and_filters(admin, demo):
    sh = _add(admin, demo, type="city", platform="Android", name="Shanghai", value="Shanghai")
    assert sh.status == 201, sh.body
    assert sh.body["platform"] == "android" and sh.body["ruleId"].isdigit()
    _add(admin, demo, type="network", platform="all", name="Wi-Fi only", value="wifi")
    _add(admin, demo, type="osVersion", platform="ios", name="iOS 16", value="16.0")
    model = _add(admin, demo, type="model", platform="android", name="Vivo", value="VIVO X5M").body
    listed = admin.get(ws_path(demo, "/release-rules")).body["releaseRules"]
    assert [r["type"] for r in listed] == ["city", "network", "osVersion", "model"]
    assert listed[1]["value"] == "Wi-Fi"  # normalised to the canonical network name
    only_android = admin.get(ws_path(demo, "/release-rules?platform=android")).body["releaseRules"]
    assert {r["name"] for r in only_android} == {"Shanghai", "Vivo"}
    changed = admin.put(
        ws_path(demo, f"/release-rules/{model['ruleId']}"), {"value": "VIVO X6", "version": 1}
    )
    assert changed.status == 200 and changed.body["value"] == "VIVO X6" and changed.body["version"] == 2
    stale = admin.put(ws_path(demo, f"/release-rules/{model['ruleId']}"), {"name": "x", "version": 1})
    assert stale.status == 409
    assert admin.delete(ws_path(demo, f"/release-rules/{model['ruleId']}")).status == 204
    assert admin.get(ws_path(demo, f"/release-rules/{model['ruleId']}")).status == 404


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"type": "planet", "platform": "all", "name": "n", "value": "v"}, "type", "must be one of"),
        ({"type": "city", "platform": "windows", "name": "n", "value": "v"}, "platform", "must be one of"),
        (
            {"type": "network", "platform": "all", "name": "n", "value": "6G"},
            "value",
            "network must be one of",
        ),
        ({"type": "osVersion", "platform": "all", "name": "n", "value": "eleven"}, "value", ""),
        ({"type": "city", "platform": "all", "name": "", "value": "v"}, "name", "non-empty"),
        ({"type": "city", "platform": "all", "name": "n", "value": "x" * 129}, "value", "at most 128"),
        ({"type": "city", "platform": "all", "name": "n"}, "value", "is required"),
    ],
)
def test_bad_rules_name_the_field(admin, demo, body, field, rule):
    reply = _add(admin, demo, **body)
    assert reply.status == 400, reply.body
    assert reply.body["field"] == field and rule in reply.body["message"]
    assert admin.get(ws_path(demo, "/release-rules")).body["releaseRules"] == []


def test_duplicates_are_refused_until_the_value_changes(admin, demo):
    first = _add(admin, demo, type="city", platform="all", name="SH", value="Shanghai").body
    dup = _add(admin, demo, type="city", platform="all", name="Other name", value="shanghai")
    assert dup.status == 409
    assert _add(admin, demo, type="city", platform="ios", name="SH iOS", value="Shanghai").status == 201
    admin.put(ws_path(demo, f"/release-rules/{first['ruleId']}"), {"value": "Beijing"})
    assert _add(admin, demo, type="city", platform="all", name="SH again", value="Shanghai").status == 201


def test_batch_delete_is_all_or_nothing(admin, demo):
    ids = [
        _add(admin, demo, type="city", platform="all", name=c, value=c).body["ruleId"]
        for c in ("A", "B", "C")
    ]
    missing = admin.post(ws_path(demo, "/release-rules/batch-delete"), {"ruleIds": [ids[0], "999"]})
    assert missing.status == 404
    assert len(admin.get(ws_path(demo, "/release-rules")).body["releaseRules"]) == 3
    done = admin.post(ws_path(demo, "/release-rules/batch-delete"), {"ruleIds": ids[:2]})
    assert done.status == 200 and done.body["deleted"] == ids[:2]
    assert [r["ruleId"] for r in admin.get(ws_path(demo, "/release-rules")).body["releaseRules"]] == [ids[2]]
    too_many = admin.post(
        ws_path(demo, "/release-rules/batch-delete"), {"ruleIds": [str(n) for n in range(31)]}
    )
    assert too_many.status == 400 and too_many.body["field"] == "ruleIds"
    log = admin.get(ws_path(demo, "/audit?entityType=release_rule")).body["entries"]
    assert [e["action"] for e in log][:2] == ["release_rule.delete", "release_rule.delete"]


def test_viewer_cannot_change_rules(admin, demo):
    admin.post(
        ws_path(demo, "/users"), {"username": "viewer3", "password": "a-long-password", "role": "viewer"}
    )
    token = admin.login("viewer3", "a-long-password")
    reply = admin.post(
        ws_path(demo, "/release-rules"),
        {"type": "city", "platform": "all", "name": "n", "value": "v"},
        token=token,
    )
    assert reply.status == 403
    assert admin.get(ws_path(demo, "/release-rules"), token=token).status == 200


def test_rule_values_no_release_rule_defines_are_warned_about_not_refused(admin, demo, aws):
    from tests.builders import add_android, add_whitelist

    _add(admin, demo, type="city", platform="android", name="Shanghai", value="Shanghai")
    _add(admin, demo, type="city", platform="ios", name="Hangzhou", value="Hangzhou")
    _add(admin, demo, type="network", platform="all", name="Wi-Fi", value="Wi-Fi")
    pid = add_android(admin, demo, aws, "5.0")["packageId"]
    rules = [
        {"type": "city", "operation": 1, "values": [" shanghai", "Shangai", "Hangzhou"]},  # typo; iOS-only
        {"type": "network", "operation": 2, "values": ["WIFI"]},  # a synonym of the defined Wi-Fi
        {"type": "osVersion", "operation": 3, "ranges": ["8.0-12.0"]},  # ranges are not values
    ]
    created = admin.post(
        ws_path(demo, f"/upgrade/packages/{pid}/tasks"),
        {"type": "gray", "grayModel": "whitelist", "whitelistIds": [add_whitelist(admin, demo)], "mode": "single",
         "rules": rules},
    )  # fmt: skip
    assert created.status == 201, created.body
    assert [w["field"] for w in created.body["warnings"]] == ["rules[0].values[1]", "rules[0].values[2]"]
    assert "'Shangai' is not a defined city release rule" in created.body["warnings"][0]["message"]
    edited = admin.request(
        "PATCH", ws_path(demo, f"/upgrade/tasks/{created.body['taskId']}"),
        {"rules": [{"type": "model", "operation": 1, "values": ["Pixel 9"]}]},
    )  # fmt: skip
    assert edited.status == 200 and [w["field"] for w in edited.body["warnings"]] == ["rules[0].values[0]"]
    assert admin.get(ws_path(demo, f"/upgrade/tasks/{created.body['taskId']}")).body["rules"][0][
        "values"
    ] == ["Pixel 9"]  # kept as written
