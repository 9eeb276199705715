"""Console REST for the targeting resources: whitelists and release rules."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.console import WORKSPACE, int_param
from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.api.schemas import (
    BatchDeleteBody,
    CreateReleaseRuleBody,
    CreateWhitelistBody,
    ImportBody,
    MembersBody,
    UpdateReleaseRuleBody,
    UpdateWhitelistBody,
)

targeting = Blueprint(__name__)

WHITELIST = WORKSPACE + "/whitelists/{whitelistId}"


@endpoint(targeting, WORKSPACE + "/whitelists", methods=["GET"])
def list_whitelists(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import whitelists

    return {"whitelists": whitelists.list_all(request.caller, request.tenant)}


@endpoint(targeting, WORKSPACE + "/whitelists", methods=["POST"], body=CreateWhitelistBody, status=201)
def create_whitelist(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import whitelists

    b = request.body
    return whitelists.create(
        request.caller, request.tenant, name=b.name, kind=b.kind, ids=b.ids, patterns=b.patterns
    )


@endpoint(targeting, WHITELIST, methods=["GET"])
def get_whitelist(request: ApiRequest, whitelistId: str) -> dict[str, Any]:
    from chalicelib.services import whitelists

    return whitelists.get(request.caller, request.tenant, whitelistId)


@endpoint(targeting, WHITELIST, methods=["PATCH"], body=UpdateWhitelistBody)
def update_whitelist(request: ApiRequest, whitelistId: str) -> dict[str, Any]:
    from chalicelib.services import whitelists

    b = request.body
    return whitelists.update(
        request.caller,
        request.tenant,
        whitelistId,
        name=b.name,
        patterns=b.patterns,
        expected_version=b.version,
    )


@endpoint(targeting, WHITELIST, methods=["DELETE"])
def delete_whitelist(request: ApiRequest, whitelistId: str) -> None:
    from chalicelib.services import whitelists

    whitelists.delete(request.caller, request.tenant, whitelistId)


@endpoint(targeting, WHITELIST + "/members", methods=["GET"])
def list_members(request: ApiRequest, whitelistId: str) -> dict[str, Any]:
    from chalicelib.services import whitelists

    q = request.query
    return whitelists.members(
        request.caller,
        request.tenant,
        whitelistId,
        search=q.get("q") or None,
        cursor=q.get("cursor") or None,
        limit=int_param(q, "limit", 100),
    )


@endpoint(targeting, WHITELIST + "/members", methods=["POST"], body=MembersBody)
def add_members(request: ApiRequest, whitelistId: str) -> dict[str, Any]:
    from chalicelib.services import whitelists

    return whitelists.add_members(request.caller, request.tenant, whitelistId, request.body.ids)


@endpoint(targeting, WHITELIST + "/members/remove", methods=["POST"], body=MembersBody)
def remove_members(request: ApiRequest, whitelistId: str) -> dict[str, Any]:
    from chalicelib.services import whitelists

    return whitelists.remove_members(request.caller, request.tenant, whitelistId, request.body.ids)


@endpoint(targeting, WHITELIST + "/members/{userId}", methods=["GET"])
def check_member(request: ApiRequest, whitelistId: str, userId: str) -> dict[str, Any]:
    from urllib.parse import unquote

    from chalicelib.services import whitelists

    return whitelists.contains(request.caller, request.tenant, whitelistId, unquote(userId))


@endpoint(targeting, WHITELIST + "/imports", methods=["POST"], body=ImportBody, status=201)
def import_members(request: ApiRequest, whitelistId: str) -> dict[str, Any]:
    from chalicelib.services import whitelists

    return whitelists.request_import(
        request.caller, request.tenant, whitelistId, filename=request.body.filename
    )


RULE = WORKSPACE + "/release-rules/{ruleId}"


@endpoint(targeting, WORKSPACE + "/release-rules", methods=["GET"])
def list_release_rules(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import release_rules

    q = request.query
    return {
        "releaseRules": release_rules.list_rules(
            request.caller,
            request.tenant,
            rule_type=q.get("type") or None,
            platform=q.get("platform") or None,
        )
    }


@endpoint(targeting, WORKSPACE + "/release-rules", methods=["POST"], body=CreateReleaseRuleBody, status=201)
def create_release_rule(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import release_rules

    b = request.body
    return release_rules.create(
        request.caller, request.tenant, rule_type=b.kind, platform=b.platform, name=b.name, value=b.value
    )


@endpoint(targeting, RULE, methods=["GET"])
def get_release_rule(request: ApiRequest, ruleId: str) -> dict[str, Any]:
    from chalicelib.services import release_rules

    return release_rules.get(request.caller, request.tenant, ruleId)


@endpoint(targeting, RULE, methods=["PUT"], body=UpdateReleaseRuleBody)
def update_release_rule(request: ApiRequest, ruleId: str) -> dict[str, Any]:
    from chalicelib.services import release_rules

    b = request.body
    changes = {"rule_type": b.kind, "platform": b.platform, "name": b.name, "value": b.value}
    return release_rules.update(
        request.caller, request.tenant, ruleId, changes=changes, expected_version=b.version
    )


@endpoint(targeting, RULE, methods=["DELETE"])
def delete_release_rule(request: ApiRequest, ruleId: str) -> None:
    from chalicelib.services import release_rules

    release_rules.delete(request.caller, request.tenant, [ruleId])


@endpoint(targeting, WORKSPACE + "/release-rules/batch-delete", methods=["POST"], body=BatchDeleteBody)
def batch_delete_release_rules(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import release_rules

    return release_rules.delete(request.caller, request.tenant, request.body.rule_ids)
