"""The mPaaS OpenAPI actions (2020-10-28) for whitelists: CreateMcubeWhitelist, UpdateMcubeWhitelist,
ListMcubeWhitelists, DeleteMcubeWhitelist, DeleteMdsWhitelistContent → ``services.whitelists``.

mPaaS keeps one whitelist per business (``WhitelistType``: upgrade, H5, hotpatch…); an MDS whitelist is
one list every product can target, so ``WhitelistType`` is accepted and ignored and lists show our kind
(``normal``). Members are added by ``KeyIds`` (comma/newline separated) or by a file uploaded with
GetMcubeFileToken (``OssUrl``), never both in one call, so either lands whole or not at all.
"""

from __future__ import annotations

from typing import Any

from chalicelib.api import openapi_params as p
from chalicelib.api.openapi_actions import action
from chalicelib.domain.access import Permission
from chalicelib.domain.errors import NotFound, ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.services.context import Call

_WIRE_FIELDS = {
    "name": "WhiteListName",
    "ids": "KeyIds",
    "file": "OssUrl",
    "whitelistId": "Id",
    "type": "Id",  # "a regex whitelist has patterns, not member IDs": the list named by Id
}


def whitelist_out(tenant: TenantId, w: dict[str, Any]) -> dict[str, Any]:
    """One whitelist view → the ``Whitelists`` item of ListMcubeWhitelists."""
    return {
        "Id": p.id_out(w.get("whitelistId")),
        "AppCode": p.app_code(tenant),
        "WhiteListName": str(w.get("name") or ""),
        "WhiteListCount": int(w.get("count") or 0),
        "WhitelistType": str(w.get("type") or ""),
        "GmtCreate": p.gmt(w.get("createdAt")),
        "GmtModified": p.gmt(w.get("updatedAt") or w.get("createdAt")),
    }


def task_whitelists(call: Call, tenant: TenantId, ids: list[Any], *, platform: str) -> list[dict[str, Any]]:
    """The whitelists a task targets, as task detail models list them (a deleted one is left out)."""
    from chalicelib.services import whitelists

    out = []
    for whitelist_id in ids:
        try:
            w = whitelists.get(call, tenant, str(whitelist_id))
        except NotFound:
            continue
        out.append(
            {
                "Id": p.id_out(w.get("whitelistId")),
                "AppCode": p.app_code(tenant),
                "WhiteListName": str(w.get("name") or ""),
                "WhiteListCount": int(w.get("count") or 0),
                "WhitelistType": str(w.get("type") or ""),
                "IdType": "userId",
                "UserType": "",
                "Business": "",
                "Platform": platform,
                "Status": 1,
                "GmtModified": p.gmt(w.get("updatedAt") or w.get("createdAt")),
            }
        )
    return out


@action("CreateMcubeWhitelist", result_key="CreateWhitelistResult", permission=Permission.RELEASE)
def create_whitelist(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import whitelists

    name = p.text(params, "WhiteListName", required=True, max_len=256) or ""
    p.text(params, "WhitelistType", max_len=64)  # accepted, ignored: one list serves every product
    with p.wire_errors(_WIRE_FIELDS):
        created = whitelists.create(call, tenant, name=name, kind="normal")
    return {"WhitelistId": str(created["whitelistId"])}


@action("UpdateMcubeWhitelist", result_key="AddWhitelistResult", permission=Permission.RELEASE)
def update_whitelist(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import file_tokens, whitelists

    whitelist_id = p.ident(params, "Id")
    ids = p.text(params, "KeyIds", max_len=whitelists.MAX_TEXT_BYTES)
    url = p.text(params, "OssUrl", max_len=2048)
    if ids and url:
        raise ValidationError("KeyIds", "send either KeyIds or OssUrl (an uploaded ID file), not both")
    if not ids and not url:
        raise ValidationError("KeyIds", "is required (or OssUrl, the URL of an uploaded ID file)")
    with p.wire_errors(_WIRE_FIELDS):
        if url:
            key = file_tokens.resolve(tenant, url, field="OssUrl")
            summary = whitelists.add_members_from_file(call, tenant, whitelist_id, key)
        else:
            summary = whitelists.add_members(call, tenant, whitelist_id, ids or "")
    rejected = summary.get("rejected") or []
    return {
        "AddWhitelistInfo": {
            "SuccessNum": int(summary.get("added") or 0),
            "FailNum": int(summary.get("rejectedCount") or 0),
            "FailUserIds": ",".join(str(r.get("value")) for r in rejected),
        }
    }


@action("ListMcubeWhitelists", result_key="ListWhitelistResult", permission=Permission.READ)
def list_whitelists(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import whitelists

    number, size = p.page(params)
    wanted = (p.text(params, "WhitelistName", max_len=256) or "").strip().lower()
    found = [w for w in whitelists.list_all(call, tenant) if wanted in str(w.get("name") or "").lower()]
    shown = found[(number - 1) * size : number * size]
    paging = p.paged(call, len(found), number, size)
    return {
        **{k: paging[k] for k in ("CurrentPage", "PageSize", "TotalCount", "HasMore")},
        "Whitelists": [whitelist_out(tenant, w) for w in shown],
    }


@action("DeleteMcubeWhitelist", result_key="DeleteWhitelistResult", permission=Permission.RELEASE)
def delete_whitelist(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    from chalicelib.services import whitelists

    whitelist_id = p.ident(params, "Id")
    with p.wire_errors(_WIRE_FIELDS):
        whitelists.delete(call, tenant, whitelist_id)
    return {"Data": "success"}


@action(
    "DeleteMdsWhitelistContent",
    result_key="ResultContent",
    permission=Permission.RELEASE,
    status_key="Data",
)
def delete_whitelist_content(call: Call, tenant: TenantId, params: dict[str, str]) -> dict[str, Any]:
    """Remove one member (``WhitelistValue``; several, comma separated, are removed together)."""
    from chalicelib.services import whitelists

    whitelist_id = p.ident(params, "WhitelistId")
    value = p.text(params, "WhitelistValue", required=True, max_len=whitelists.MAX_TEXT_BYTES) or ""
    with p.wire_errors({**_WIRE_FIELDS, "ids": "WhitelistValue", "whitelistId": "WhitelistId"}):
        summary = whitelists.remove_members(call, tenant, whitelist_id, value)
    if not summary.get("removed"):
        raise NotFound(f"WhitelistValue: {value} is not in whitelist {whitelist_id}")
    return {"RequestId": call.request_id, "Data": {"ErrorCode": "", "Content": value}}
