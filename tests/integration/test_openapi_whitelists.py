"""The whitelist OpenAPI actions through the official Tea SDK over real HTTP (the in-process app behind
Chalice's local server, moto): create, add by ids and by an uploaded file, list with paging and name
filter, remove one value, delete; each refusal named by its wire parameter."""

from __future__ import annotations

import pytest

from tests.mpaas_sdk import MpaasSdk, ok, refused


@pytest.fixture
def sdk(http_endpoint, demo, monkeypatch) -> MpaasSdk:
    """Tokens name this server as their upload Host (MDS_API_BASE_URL, as the local stack sets it)."""
    from chalicelib import config

    monkeypatch.setenv("MDS_API_BASE_URL", f"http://{http_endpoint}")
    config.reload()
    return MpaasSdk.for_creds(http_endpoint, demo)


def _create(sdk: MpaasSdk, name: str) -> str:
    made = ok(sdk.call("CreateMcubeWhitelist", white_list_name=name, whitelist_type="upgrade"),
              "create_whitelist_result")  # fmt: skip
    assert made.whitelist_id.isdigit()
    return made.whitelist_id


def test_create_add_list_remove_delete(sdk):
    qa = _create(sdk, "qa-team")
    _create(sdk, "beta-users")
    added = ok(sdk.call("UpdateMcubeWhitelist", id=qa, key_ids="u1,u2,u3"), "add_whitelist_result")
    assert (added.add_whitelist_info.success_num, added.add_whitelist_info.fail_num) == (3, 0)
    url = sdk.upload("ids.txt", b"u3\nu4\n" + b"x" * 300 + b"\n")
    from_file = ok(
        sdk.call("UpdateMcubeWhitelist", id=qa, oss_url=url), "add_whitelist_result"
    ).add_whitelist_info
    assert (
        from_file.success_num == 1 and from_file.fail_num == 1 and from_file.fail_user_ids.startswith("xxx")
    )

    listed = ok(sdk.call("ListMcubeWhitelists", page_num=1, page_size=1), "list_whitelist_result")
    assert (listed.total_count, listed.has_more, listed.current_page, listed.page_size) == (2, True, 1, 1)
    first = listed.whitelists[0]
    assert (str(first.id), first.white_list_name, first.white_list_count) == (qa, "qa-team", 4)
    assert first.app_code == f"{sdk.ids['app_id']}-{sdk.ids['workspace_id']}" and len(first.gmt_create) == 19
    named = ok(sdk.call("ListMcubeWhitelists", whitelist_name="BETA"), "list_whitelist_result")
    assert [w.white_list_name for w in named.whitelists] == ["beta-users"] and named.has_more is False

    removed = sdk.call("DeleteMdsWhitelistContent", whitelist_id=qa, whitelist_value="u2")
    assert removed.result_code == "OK" and removed.result_content.data.success is True
    assert removed.result_content.data.content == "u2"
    again = sdk.call("DeleteMdsWhitelistContent", whitelist_id=qa, whitelist_value="u2")
    assert again.result_code == "NotFound" and again.result_content.data.success is False
    assert again.result_message.startswith("WhitelistValue:")
    count = ok(sdk.call("ListMcubeWhitelists", whitelist_name="qa"), "list_whitelist_result").whitelists[0]
    assert count.white_list_count == 3

    deleted = ok(sdk.call("DeleteMcubeWhitelist", id=int(qa)), "delete_whitelist_result")
    assert deleted.data == "success"
    left = ok(sdk.call("ListMcubeWhitelists"), "list_whitelist_result")
    assert [w.white_list_name for w in left.whitelists] == ["beta-users"]


@pytest.mark.parametrize(
    ("action", "params", "field"),
    [
        ("CreateMcubeWhitelist", {}, "WhiteListName"),
        ("CreateMcubeWhitelist", {"white_list_name": "x" * 300}, "WhiteListName"),
        ("UpdateMcubeWhitelist", {"id": "ID"}, "KeyIds"),
        ("UpdateMcubeWhitelist", {"id": "ID", "key_ids": "a", "oss_url": "http://h/x"}, "KeyIds"),
        ("UpdateMcubeWhitelist", {"id": "ID", "oss_url": "https://elsewhere.example.com/x.txt"}, "OssUrl"),
        ("UpdateMcubeWhitelist", {"id": "999999", "key_ids": "a"}, "whitelist 999999"),
        ("ListMcubeWhitelists", {"page_size": 1000}, "PageSize"),
        ("DeleteMcubeWhitelist", {"id": 999999}, "whitelist 999999"),
        ("DeleteMdsWhitelistContent", {"whitelist_id": "ID"}, "WhitelistValue"),
    ],
)
def test_refusals_name_the_parameter(sdk, action, params, field):
    whitelist_id = _create(sdk, "one")
    sent = {k: whitelist_id if v == "ID" else v for k, v in params.items()}
    body = sdk.call(action, **sent)
    if action == "DeleteMdsWhitelistContent":
        assert body.result_code != "OK" and body.result_content.data.success is False
        assert body.result_message.startswith(field)
        return
    result = {
        "CreateMcubeWhitelist": "create_whitelist_result",
        "UpdateMcubeWhitelist": "add_whitelist_result",
        "ListMcubeWhitelists": "list_whitelist_result",
        "DeleteMcubeWhitelist": "delete_whitelist_result",
    }[action]
    refused(body, result, field)
    shown = ok(sdk.call("ListMcubeWhitelists"), "list_whitelist_result").whitelists
    assert [(w.white_list_name, w.white_list_count) for w in shown] == [("one", 0)]  # nothing half-written
