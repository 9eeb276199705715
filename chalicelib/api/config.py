"""Console REST for switch configuration (docs/config.md): items, import/export, history, rollback.

Item bodies are the item's JSON form and are validated by ``domain.config.parse_item`` (which names
fields by their JSON path), so the schema here only insists on an object.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict

from chalicelib.api.console import WORKSPACE
from chalicelib.api.http import ApiRequest, endpoint
from chalicelib.api.schemas import Body
from chalicelib.domain.errors import ValidationError

config = Blueprint(__name__)

BASE = WORKSPACE + "/config"
ITEMS = BASE + "/items"
ITEM = ITEMS + "/{key}"


class FreeBody(BaseModel):
    """Any JSON object; the domain validates it."""

    model_config = ConfigDict(extra="allow", frozen=True)


class ImportUploadBody(Body):
    filename: str


class StatusBody(Body):
    revision: int | None = None


class RollbackBody(Body):
    version: int | None = None
    revision: int | None = None


def _revision(data: dict[str, Any]) -> int | None:
    revision = data.pop("revision", None)
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
        raise ValidationError("revision", "must be an integer")
    return revision


@endpoint(config, ITEMS, methods=["GET"])
def list_items(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import config_items

    return config_items.list_items(
        request.caller,
        request.tenant,
        keyword=request.query.get("keyword") or None,
        platform=request.query.get("platform") or None,
        page=request.query_int("page", 1),
        page_size=request.query_int("pageSize", 20),
    )


@endpoint(config, ITEMS, methods=["POST"], body=FreeBody, status=201)
def create_item(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import config_items

    return config_items.create(request.caller, request.tenant, request.body.model_dump())


@endpoint(config, ITEM, methods=["GET"])
def get_item(request: ApiRequest, key: str) -> dict[str, Any]:
    from chalicelib.services import config_items

    return config_items.get(request.caller, request.tenant, key)


@endpoint(config, ITEM, methods=["PATCH"], body=FreeBody)
def update_item(request: ApiRequest, key: str) -> dict[str, Any]:
    from chalicelib.services import config_items

    changes = request.body.model_dump()
    revision = _revision(changes)
    return config_items.update(request.caller, request.tenant, key, changes, expected_revision=revision)


@endpoint(config, ITEM + "/enable", methods=["POST"], body=StatusBody)
def enable_item(request: ApiRequest, key: str) -> dict[str, Any]:
    from chalicelib.services import config_items

    return config_items.set_active(
        request.caller, request.tenant, key, True, expected_revision=request.body.revision
    )


@endpoint(config, ITEM + "/disable", methods=["POST"], body=StatusBody)
def disable_item(request: ApiRequest, key: str) -> dict[str, Any]:
    from chalicelib.services import config_items

    return config_items.set_active(
        request.caller, request.tenant, key, False, expected_revision=request.body.revision
    )


@endpoint(config, ITEM, methods=["DELETE"])
def delete_item(request: ApiRequest, key: str) -> None:
    from chalicelib.services import config_items

    config_items.delete(request.caller, request.tenant, key)


@endpoint(config, ITEM + "/history", methods=["GET"])
def item_history(request: ApiRequest, key: str) -> dict[str, Any]:
    from chalicelib.services import config_items

    return config_items.history(request.caller, request.tenant, key)


@endpoint(config, ITEM + "/rollback", methods=["POST"], body=RollbackBody)
def rollback_item(request: ApiRequest, key: str) -> dict[str, Any]:
    from chalicelib.services import config_items

    b = request.body
    return config_items.rollback(
        request.caller, request.tenant, key, to_version=b.version, expected_revision=b.revision
    )


@endpoint(config, BASE + "/import", methods=["POST"], body=FreeBody)
def import_items(request: ApiRequest) -> dict[str, Any]:
    """Body: the export document (``{"items": [...]}``), optionally with ``"skipInvalid": true``."""
    from chalicelib.services import config_items

    document = request.body.model_dump()
    skip_invalid = document.pop("skipInvalid", False)
    if not isinstance(skip_invalid, bool):
        raise ValidationError("skipInvalid", "must be true or false")
    document.pop("schema", None)
    return config_items.import_items(request.caller, request.tenant, document, skip_invalid=skip_invalid)


@endpoint(config, BASE + "/import-uploads", methods=["POST"], body=ImportUploadBody, status=201)
def import_upload(request: ApiRequest) -> dict[str, Any]:
    """A presigned POST for a JSON file; poll ``GET .../uploads/{uploadId}`` for the import result."""
    from chalicelib.services import config_items

    return config_items.request_import_upload(request.caller, request.tenant, filename=request.body.filename)


@endpoint(config, BASE + "/export", methods=["GET"])
def export_items(request: ApiRequest) -> dict[str, Any]:
    from chalicelib.services import config_items

    return config_items.export(request.caller, request.tenant)
