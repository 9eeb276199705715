"""Console REST for H5 offline packages: settings, H5 apps, resources (package versions), tasks, imports.

Bodies are passed to the services as they are (camelCase keys): the domain validates every field and
names it in errors (``domain/h5.py``).
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict

from chalicelib.api.console import WORKSPACE
from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.domain.errors import MissingParameter, ValidationError

h5 = Blueprint(__name__)

BASE = WORKSPACE + "/h5"


class _Fields(BaseModel):
    """Any JSON object; the services check each field."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def data(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


def _text(data: dict[str, Any], name: str) -> str:
    """A required string field: MissingParameter when absent or empty."""
    value = data.get(name)
    if value is None or value == "":
        raise MissingParameter(name)
    if not isinstance(value, str):
        raise ValidationError(name, "must be a string")
    return value


# --- settings --------------------------------------------------------------------------------------


@endpoint(h5, BASE + "/settings", methods=["GET"])
def get_settings(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import h5_settings

    return h5_settings.view(request.caller, request.tenant)


@endpoint(h5, BASE + "/settings/vhost", methods=["PUT"], body=_Fields)
def set_vhost(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import h5_settings

    data = request.body.data()
    return {"vhost": h5_settings.set_vhost(request.caller, request.tenant, _text(data, "vhost"))}


@endpoint(h5, BASE + "/settings/rsa-key", methods=["PUT"], body=_Fields)
def upload_key(request: ApiRequest) -> dict[str, Any]:
    """``{"pem": "-----BEGIN ..."}``; or ``{"filename": "key.pem"}`` for a presigned upload
    (purpose ``rsa-key``; the key is stored when S3 reports the file)."""
    from chalicelib.services import h5_settings, uploads

    data = request.body.data()
    unknown = sorted(set(data) - {"pem", "filename"})
    if unknown:
        raise ValidationError(unknown[0], "is not a known field")
    if data.get("filename"):
        return {
            "upload": uploads.request_upload(
                request.caller, request.tenant, purpose="rsa-key", filename=_text(data, "filename")
            )
        }
    pem = _text(data, "pem")
    return h5_settings.upload_rsa_key(request.caller, request.tenant, pem.encode("utf-8", "replace"))


@endpoint(h5, BASE + "/settings/rsa-key", methods=["GET"])
def key_status(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import h5_settings

    exists = h5_settings.rsa_key_exists(request.caller, request.tenant)
    return {
        "exists": exists,
        "publicKey": h5_settings.public_key(request.caller, request.tenant) if exists else None,
    }


@endpoint(h5, BASE + "/settings/public-key", methods=["GET"])
def export_public_key(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import h5_settings

    view = h5_settings.view(request.caller, request.tenant)
    return {"keyId": view["keyId"], "publicKey": h5_settings.public_key(request.caller, request.tenant)}


# --- apps ------------------------------------------------------------------------------------------


@endpoint(h5, BASE + "/apps", methods=["GET"])
def list_apps(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import h5_apps

    q = request.query
    return h5_apps.list_apps(
        request.caller,
        request.tenant,
        keyword=q.get("keyword", ""),
        page=request.query_int("page", 1),
        page_size=request.query_int("pageSize", 20),
    )


@endpoint(h5, BASE + "/apps", methods=["POST"], body=_Fields, status=201)
def create_app(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import h5_apps

    data = request.body.data()
    unknown = sorted(set(data) - {"h5Id", "name", "resourceType"})
    if unknown:
        raise ValidationError(unknown[0], "is not a known field")
    return h5_apps.create_app(
        request.caller,
        request.tenant,
        h5_id=data.get("h5Id"),  # the domain checks both
        name=data.get("name"),
        resource_type=data.get("resourceType"),
    )


@endpoint(h5, BASE + "/apps/{h5Id}", methods=["GET"])
def get_app(request: ApiRequest, h5Id: str) -> dict[str, Any]:
    from chalicelib.services import h5_apps

    return h5_apps.get_app(request.caller, request.tenant, h5Id)


@endpoint(h5, BASE + "/apps/{h5Id}", methods=["DELETE"])
def delete_app(request: ApiRequest, h5Id: str) -> None:
    from chalicelib.services import h5_apps

    h5_apps.delete_app(request.caller, request.tenant, h5Id)


# --- resources -------------------------------------------------------------------------------------


@endpoint(h5, BASE + "/apps/{h5Id}/resources", methods=["GET"])
def list_resources(request: ApiRequest, h5Id: str) -> dict[str, Any]:
    from chalicelib.services import h5_resources

    return h5_resources.list_resources(
        request.caller,
        request.tenant,
        h5_id=h5Id,
        page=request.query_int("page", 1),
        page_size=request.query_int("pageSize", 20),
    )


@endpoint(h5, BASE + "/apps/{h5Id}/resources", methods=["POST"], body=_Fields, status=201)
def create_resource(request: ApiRequest, h5Id: str) -> dict[str, Any]:
    """The resource's fields plus ``filename`` (.zip); answers with ``upload.post`` to send the zip with."""
    from chalicelib.services import h5_resources

    data = request.body.data()
    filename = _text(data, "filename")
    spec = {k: v for k, v in data.items() if k != "filename"}
    if spec.get("h5Id") not in (None, h5Id):
        raise ValidationError("h5Id", f"must be {h5Id} (the path's H5 ID) or left out")
    spec["h5Id"] = h5Id
    return h5_resources.create(request.caller, request.tenant, spec, filename=filename)


@endpoint(h5, BASE + "/resources/{resourceId}", methods=["GET"])
def get_resource(request: ApiRequest, resourceId: str) -> dict[str, Any]:
    from chalicelib.services import h5_resources

    return h5_resources.get_resource(request.caller, request.tenant, resourceId)


@endpoint(h5, BASE + "/resources/{resourceId}/export", methods=["GET"])
def export_resource(request: ApiRequest, resourceId: str) -> dict[str, Any]:
    from chalicelib.services import h5_resources

    return h5_resources.export(request.caller, request.tenant, resourceId)


# --- tasks -----------------------------------------------------------------------------------------


@endpoint(h5, BASE + "/resources/{resourceId}/tasks", methods=["GET"])
def list_tasks(request: ApiRequest, resourceId: str) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    return {"tasks": h5_tasks.list_tasks(request.caller, request.tenant, resource_id=resourceId)}


@endpoint(h5, BASE + "/resources/{resourceId}/tasks", methods=["POST"], body=_Fields, status=201)
def create_task(request: ApiRequest, resourceId: str) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    return h5_tasks.create_task(request.caller, request.tenant, resourceId, request.body.data())


@endpoint(h5, BASE + "/tasks/{taskId}", methods=["GET"])
def get_task(request: ApiRequest, taskId: str) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    return h5_tasks.get_task(request.caller, request.tenant, taskId)


@endpoint(h5, BASE + "/tasks/{taskId}/status", methods=["POST"], body=_Fields)
def change_task_status(request: ApiRequest, taskId: str) -> dict[str, Any]:
    from chalicelib.services import h5_tasks

    data = request.body.data()
    unknown = sorted(set(data) - {"action", "revision"})
    if unknown:
        raise ValidationError(unknown[0], "is not a known field")
    revision = data.get("revision")
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
        raise ValidationError("revision", "must be an integer")
    return h5_tasks.change_status(
        request.caller, request.tenant, taskId, _text(data, "action"), expected_revision=revision
    )


# --- batch import ----------------------------------------------------------------------------------


@endpoint(h5, BASE + "/imports", methods=["POST"], body=_Fields, status=201)
def batch_import(request: ApiRequest) -> dict[str, Any]:
    """``{"filename": "batch.zip"}`` → an upload (purpose ``h5-batch``, ≤ 300 MB); when S3 reports the
    file, every inner zip is imported and ``GET {ws}/uploads/{uploadId}`` shows the per-item ``result``."""
    from chalicelib.services import uploads

    data = request.body.data()
    unknown = sorted(set(data) - {"filename"})
    if unknown:
        raise ValidationError(unknown[0], "is not a known field")
    return uploads.request_upload(
        request.caller, request.tenant, purpose="h5-batch", filename=_text(data, "filename")
    )
