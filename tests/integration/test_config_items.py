"""Switch configuration through the console API on moto: items, search, paging, optimistic locking,
enable/disable, delete, history with diffs, rollback, bad input and the audit log."""

from __future__ import annotations

from tests.conftest import ws_path


def items_path(demo, suffix: str = "") -> str:
    return ws_path(demo, "/config/items" + suffix)


def add(admin, demo, **item) -> dict:
    reply = admin.post(items_path(demo), item)
    assert reply.status == 201, reply.body
    return reply.body


def test_add_show_and_list_with_creator_and_times(admin, demo):
    created = add(
        admin, demo, key="feed_v2", type="boolean", platform="android", value=False, note="new feed"
    )
    assert created["value"] == "false" and created["active"] is True  # active on creation
    assert created["createdBy"] == "user:admin" and created["updatedAt"] == created["createdAt"]
    assert (created["version"], created["revision"]) == (1, 1)
    shown = admin.get(items_path(demo, "/feed_v2")).body
    assert shown == created
    listed = admin.get(items_path(demo)).body
    assert listed["total"] == 1 and listed["items"][0]["key"] == "feed_v2"


def test_keyword_search_over_key_note_and_values_and_paging(admin, demo):
    add(admin, demo, key="alpha.color", type="string", value="red", note="Header colour")
    add(admin, demo, key="beta_size", type="number", value=12)
    add(admin, demo, key="gamma", type="string", value="x",
        targetedValues=[{"value": "Crimson", "rules": [{"type": "city", "operation": 1, "values": ["Shanghai"]}]}])  # fmt: skip
    for keyword, keys in (("COLOUR", ["alpha.color"]), ("crimson", ["gamma"]), ("beta", ["beta_size"]),
                          ("12", ["beta_size"]), ("a", ["alpha.color", "beta_size", "gamma"])):  # fmt: skip
        found = admin.get(items_path(demo, f"?keyword={keyword}")).body
        assert [i["key"] for i in found["items"]] == keys, keyword
    page = admin.get(items_path(demo, "?page=2&pageSize=2")).body
    assert (page["total"], [i["key"] for i in page["items"]]) == (3, ["gamma"])
    assert admin.get(items_path(demo, "?pageSize=0")).body["field"] == "pageSize"


def test_modify_anything_but_the_key_with_optimistic_locking(admin, demo):
    add(admin, demo, key="timeout", type="number", value=10)
    changed = admin.request(
        "PATCH", items_path(demo, "/timeout"), {"value": "20", "note": "longer", "revision": 1}
    )
    assert changed.status == 200 and (changed.body["value"], changed.body["revision"]) == ("20", 2)
    stale = admin.request("PATCH", items_path(demo, "/timeout"), {"value": "30", "revision": 1})
    assert stale.status == 409 and stale.body["code"] == "ConcurrentModification"
    rename = admin.request("PATCH", items_path(demo, "/timeout"), {"key": "other"})
    assert rename.status == 400 and rename.body["field"] == "key"
    retype = admin.request("PATCH", items_path(demo, "/timeout"), {"type": "boolean"})
    assert retype.status == 400 and retype.body["field"] == "value"  # "20" is not a boolean
    assert admin.get(items_path(demo, "/timeout")).body["value"] == "20"  # nothing half-written


def test_enable_disable_delete_and_duplicate_keys(admin, demo):
    add(admin, demo, key="k1", type="string", value="v")
    assert admin.post(items_path(demo), {"key": "k1", "type": "string", "value": "w"}).status == 409
    assert admin.post(items_path(demo, "/k1/disable"), {}).body["active"] is False
    assert admin.post(items_path(demo, "/k1/enable"), {}).body["active"] is True
    assert admin.delete(items_path(demo, "/k1")).status == 204
    assert admin.get(items_path(demo, "/k1")).status == 404
    again = add(admin, demo, key="k1", type="string", value="new")
    assert again["version"] == 5  # create, disable, enable, delete, create: the history continues


def test_history_diffs_and_rollback_in_one_action(admin, demo):
    add(admin, demo, key="banner", type="string", value="v1")
    admin.request("PATCH", items_path(demo, "/banner"), {"value": "v2"})
    admin.request("PATCH", items_path(demo, "/banner"), {"value": "v3", "note": "third"})
    history = admin.get(items_path(demo, "/banner/history")).body["versions"]
    assert [v["version"] for v in history] == [3, 2, 1]
    assert history[0]["changes"] == [
        {"field": "note", "before": "", "after": "third"},
        {"field": "value", "before": "v2", "after": "v3"},
    ]
    back = admin.post(items_path(demo, "/banner/rollback"), {})  # default: the previous version
    assert back.status == 200 and (back.body["value"], back.body["note"], back.body["version"]) == (
        "v2",
        "",
        4,
    )
    first = admin.post(items_path(demo, "/banner/rollback"), {"version": 1})
    assert first.body["value"] == "v1"
    latest = admin.get(items_path(demo, "/banner/history")).body["versions"][0]
    assert latest["action"] == "rollback" and latest["changes"] == [
        {"field": "value", "before": "v2", "after": "v1"}
    ]
    missing = admin.post(items_path(demo, "/banner/rollback"), {"version": 99})
    assert missing.status == 400 and missing.body["field"] == "version"
    entries = admin.get(ws_path(demo, "/audit?entityId=banner")).body["entries"]
    assert [e["action"] for e in entries].count("config.rollback") == 2


def test_bad_input_names_the_field_and_the_rule(admin, demo):
    cases = [
        ({"key": "has space", "type": "string", "value": "x"}, "key"),
        ({"key": "n", "type": "number", "value": "ten"}, "value"),
        ({"key": "b", "type": "boolean", "value": "yes"}, "value"),
        ({"key": "j", "type": "json", "value": "{not json"}, "value"),
        ({"key": "t", "type": "color", "value": "x"}, "type"),
        ({"key": "p", "type": "string", "value": "x",
          "targetedValues": [{"value": "y", "rollout": {"percent": 101}}]}, "targetedValues[0].rollout.percent"),
        ({"key": "r", "type": "string", "value": "x",
          "targetedValues": [{"value": "y", "rules": [{"type": "weather", "operation": 1, "values": ["sun"]}]}]},
         "targetedValues[0].rules[0].type"),
        ({"key": "w", "type": "string", "targetedValues": [{"value": "y", "whitelistIds": ["999"]}]},
         "targetedValues[0].whitelistIds[0]"),
        ({"key": "e", "type": "string"}, "value"),
        ({"key": "x" * 129, "type": "string", "value": "x"}, "key"),
    ]  # fmt: skip
    for body, field in cases:
        reply = admin.post(items_path(demo), body)
        assert reply.status == 400 and reply.body["field"] == field, (body, reply.body)
    assert admin.get(items_path(demo)).body["total"] == 0


def test_a_viewer_reads_but_cannot_change_and_the_attempt_is_audited(admin, demo):
    add(admin, demo, key="ro", type="string", value="x")
    created = admin.post(
        ws_path(demo, "/users"), {"username": "cfg.viewer", "password": "a-long-password", "role": "viewer"}
    )
    assert created.status == 201, created.body
    token = admin.login("cfg.viewer", "a-long-password")
    assert admin.get(items_path(demo, "/ro"), token=token).status == 200
    refused = admin.request("PATCH", items_path(demo, "/ro"), {"value": "y"}, token=token)
    assert refused.status == 403
    assert admin.get(items_path(demo, "/ro")).body["value"] == "x"
    denied = admin.get(ws_path(demo, "/audit?actor=user:cfg.viewer")).body["entries"]
    assert [(e["action"], e["outcome"]) for e in denied] == [("config.update", "denied")]


def test_a_whitelist_used_by_a_config_item_cannot_be_deleted(admin, demo):
    wid = admin.post(ws_path(demo, "/whitelists"), {"name": "cfg-qa", "type": "normal", "ids": "alice"}).body[
        "whitelistId"
    ]
    add(admin, demo, key="feed_v2", type="boolean", value=False,
        targetedValues=[{"value": True, "rules": [{"type": "city", "operation": 1, "values": ["Shanghai"]}]},
                        {"value": True, "whitelistIds": [wid]}])  # fmt: skip
    refused = admin.delete(ws_path(demo, f"/whitelists/{wid}"))
    assert refused.status == 409, refused.body
    assert "in use" in refused.body["message"]
    assert "config item feed_v2 (targetedValues[1])" in refused.body["message"]
    assert admin.get(ws_path(demo, f"/whitelists/{wid}")).status == 200  # nothing deleted
    assert admin.delete(items_path(demo, "/feed_v2")).status == 204
    assert admin.delete(ws_path(demo, f"/whitelists/{wid}")).status == 204
