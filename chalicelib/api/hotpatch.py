"""Hotpatch REST: patches, releases, rollback, keys (console), and the device report ingest (public)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.console import WORKSPACE
from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.api.schemas import Body, TaskStatusBody

hotpatch = Blueprint(__name__)

BASE = WORKSPACE + "/hotpatch"
PATCHES = BASE + "/patches"
PATCH = PATCHES + "/{patchId}"
RELEASES = BASE + "/releases"


class CreatePatchBody(Body):
    platform: str
    app_version: str
    filename: str
    description: str | None = None
    signer: str | None = None  # mds (default) | developer
    signature: str | None = None  # developer-signed: base64 RSA-SHA256 of the file


class CreateReleaseBody(Body):
    release_type: str = Field(alias="type")
    whitelist_ids: list[str | int] | None = None
    rules: list[dict[str, Any]] | None = None
    guardrail: dict[str, Any] | None = None
    description: str | None = None


class DeveloperKeyBody(Body):
    public_key: str


class ReportBody(Body):
    app_id: str
    workspace_id: str
    device_id: str
    patch_id: str
    outcome: str
    release_id: str | None = None
    reason: str | None = None
    platform: str | None = None
    client_version: str | None = None


@endpoint(hotpatch, PATCHES, methods=["GET"])
def list_patches(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import hotpatch as service

    q = request.query
    return {
        "patches": service.list_all(
            request.caller,
            request.tenant,
            platform=q.get("platform") or None,
            app_version=q.get("appVersion") or None,
        )
    }


@endpoint(hotpatch, PATCHES, methods=["POST"], body=CreatePatchBody, status=201)
def create_patch(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import hotpatch as service

    b = request.body
    return service.create(
        request.caller,
        request.tenant,
        platform=b.platform,
        app_version=b.app_version,
        filename=b.filename,
        description=b.description,
        signer=b.signer,
        signature=b.signature,
    )


@endpoint(hotpatch, PATCH, methods=["GET"])
def get_patch(request: ApiRequest, patchId: str) -> dict[str, Any]:
    from chalicelib.services import hotpatch as service

    return service.get(request.caller, request.tenant, patchId)


@endpoint(hotpatch, PATCH + "/rollback", methods=["POST"])
def rollback(request: ApiRequest, patchId: str) -> dict[str, Any]:
    from chalicelib.services import hotpatch as service

    return service.rollback(request.caller, request.tenant, patchId)


@endpoint(hotpatch, PATCH + "/releases", methods=["POST"], body=CreateReleaseBody, status=201)
def create_release(request: ApiRequest, patchId: str) -> dict[str, Any]:
    from chalicelib.domain.hotpatch import ReleaseInput
    from chalicelib.services import hotpatch_releases

    b = request.body
    data = ReleaseInput(
        release_type=b.release_type,
        whitelist_ids=[str(w) for w in b.whitelist_ids] if b.whitelist_ids is not None else None,
        rules=b.rules,
        guardrail=b.guardrail,
        description=b.description,
    )
    return hotpatch_releases.create(request.caller, request.tenant, patchId, data)


@endpoint(hotpatch, RELEASES, methods=["GET"])
def list_releases(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import hotpatch_releases

    q = request.query
    return {
        "releases": hotpatch_releases.list_all(
            request.caller, request.tenant, patch_id=q.get("patchId") or None, status=q.get("status") or None
        )
    }


@endpoint(hotpatch, RELEASES + "/{releaseId}", methods=["GET"])
def get_release(request: ApiRequest, releaseId: str) -> dict[str, Any]:
    from chalicelib.services import hotpatch_releases

    return hotpatch_releases.get(request.caller, request.tenant, releaseId)


@endpoint(hotpatch, RELEASES + "/{releaseId}/status", methods=["POST"], body=TaskStatusBody)
def change_release_status(request: ApiRequest, releaseId: str) -> dict[str, Any]:
    from chalicelib.services import hotpatch_releases

    b = request.body
    return hotpatch_releases.change_status(
        request.caller, request.tenant, releaseId, action=b.action, expected_revision=b.revision
    )


@endpoint(hotpatch, BASE + "/keys", methods=["GET"])
def keys(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import hotpatch_keys

    return hotpatch_keys.export(request.caller, request.tenant)


@endpoint(hotpatch, BASE + "/keys/developer", methods=["PUT"], body=DeveloperKeyBody)
def register_developer_key(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import hotpatch_keys

    return hotpatch_keys.register_developer_key(request.caller, request.tenant, request.body.public_key)


@endpoint(hotpatch, "/client/v1/hotpatch/report", methods=["POST"], body=ReportBody, public=True)
def report(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import hotpatch_reports

    return hotpatch_reports.report(request.body.model_dump(by_alias=True, exclude_none=True))
