"""Console REST API: sessions, workspaces, users, access keys, audit. JSON in, JSON out."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.api.schemas import (
    ChangeRoleBody,
    CreateAccessKeyBody,
    CreateUploadBody,
    CreateUserBody,
    CreateWorkspaceBody,
    LoginBody,
    UpdateWorkspaceBody,
)
from chalicelib.domain.errors import ValidationError
from chalicelib.domain.tenancy import TenantId

console = Blueprint(__name__)

WORKSPACE = "/api/apps/{appId}/workspaces/{workspaceId}"


@endpoint(console, "/api/auth/login", methods=["POST"], body=LoginBody, public=True)
def login(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import auth

    session = auth.login(request.body.username, request.body.password, source_ip=request.source_ip)
    return {"token": session.token, "username": session.username, "expiresAt": session.expires_at.isoformat()}


@endpoint(console, "/api/me", methods=["GET"])
def me(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import workspaces

    principal = request.caller.principal
    return {
        "principal": principal.actor,
        "isSuperuser": principal.is_superuser,
        "workspaces": workspaces.my_workspaces(request.caller),
    }


@endpoint(console, "/api/workspaces", methods=["GET"])
def list_workspaces(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import workspaces

    return {"workspaces": workspaces.my_workspaces(request.caller)}


@endpoint(console, "/api/workspaces", methods=["POST"], body=CreateWorkspaceBody, status=201)
def create_workspace(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import workspaces

    body = request.body
    return workspaces.create_workspace(
        request.caller, TenantId.parse(body.app_id, body.workspace_id), name=body.name
    )


@endpoint(console, WORKSPACE, methods=["GET"])
def get_workspace(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import workspaces

    return workspaces.get_workspace(request.caller, request.tenant)


@endpoint(console, WORKSPACE, methods=["PATCH"], body=UpdateWorkspaceBody)
def update_workspace(request: ApiRequest) -> dict[str, Any]:
    """Admins: the workspace's time zone (``timeZone``), in which end times without a zone are read."""
    from chalicelib.services import workspaces

    return workspaces.set_time_zone(request.caller, request.tenant, request.body.time_zone)


@endpoint(console, WORKSPACE + "/users", methods=["GET"])
def list_users(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import workspaces

    return {"users": workspaces.list_users(request.caller, request.tenant)}


@endpoint(console, WORKSPACE + "/users", methods=["POST"], body=CreateUserBody, status=201)
def create_user(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import workspaces

    b = request.body
    return workspaces.create_user(
        request.caller, request.tenant, username=b.username, password=b.password, role=b.role
    )


@endpoint(console, WORKSPACE + "/users/{username}", methods=["PUT"], body=ChangeRoleBody)
def change_role(request: ApiRequest, username: str) -> dict[str, Any]:
    from chalicelib.services import workspaces

    b = request.body
    return workspaces.change_role(
        request.caller, request.tenant, username, role=b.role, expected_version=b.version
    )


@endpoint(console, WORKSPACE + "/users/{username}", methods=["DELETE"])
def remove_user(request: ApiRequest, username: str) -> None:
    from chalicelib.services import workspaces

    workspaces.remove_user(request.caller, request.tenant, username)


@endpoint(console, WORKSPACE + "/access-keys", methods=["GET"])
def list_access_keys(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import access_keys

    return {"accessKeys": access_keys.list_keys(request.caller, request.tenant)}


@endpoint(console, WORKSPACE + "/access-keys", methods=["POST"], body=CreateAccessKeyBody, status=201)
def create_access_key(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import access_keys

    b = request.body
    return access_keys.create_key(request.caller, request.tenant, role=b.role, description=b.description)


@endpoint(console, WORKSPACE + "/access-keys/{accessKeyId}/revoke", methods=["POST"])
def revoke_access_key(request: ApiRequest, accessKeyId: str) -> dict[str, Any]:
    from chalicelib.services import access_keys

    return access_keys.revoke_key(request.caller, request.tenant, accessKeyId)


@endpoint(console, WORKSPACE + "/audit", methods=["GET"])
def read_audit(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import audit

    q = request.query
    return audit.query(
        request.caller,
        request.tenant,
        entity_type=q.get("entityType"),
        entity_id=q.get("entityId"),
        actor=q.get("actor"),
        since=q.get("since"),
        until=q.get("until"),
        limit=int_param(q, "limit", 50),
        cursor=q.get("cursor"),
    )


def int_param(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(name, "must be an integer") from None


@endpoint(console, WORKSPACE + "/uploads", methods=["POST"], body=CreateUploadBody, status=201)
def create_upload(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import uploads

    b = request.body
    return uploads.request_upload(request.caller, request.tenant, purpose=b.purpose, filename=b.filename)


@endpoint(console, WORKSPACE + "/uploads/{uploadId}", methods=["GET"])
def get_upload(request: ApiRequest, uploadId: str) -> dict[str, Any]:
    from chalicelib.services import uploads

    return uploads.get_upload(request.caller, request.tenant, uploadId)
