"""Batch import of H5 packages (upload purpose ``h5-batch``, ≤ 300 MB).

The upload is one zip holding up to 100 package zips named by H5 ID (``12345678.zip``, in any folder)
and optionally one JSON config file with per-ID fields, either ``{"12345678": {...}}`` or
``[{"h5Id": "12345678", ...}]`` (the resource fields of ``domain/h5.SPEC_KEYS``, plus ``name``).

Each item is imported on its own, as ``h5_resources.create_ready`` does for one package: a missing H5
app is created (its type from the config, else from the layout), the version defaults to ``0.0.0.1``
for a new app and to the app's highest version + 1 in the last part otherwise; platform ``all`` with
clients ``1.0.0;1.0.0`` and up, main URL ``/www/index.html`` for normal packages unless the config says
otherwise. An invalid item is reported and does not block the others. Re-running the same upload (or
the same inner zip again) is safe: an item whose zip (by SHA-256) the app already holds is reported as
``alreadyImported``, not imported twice. The per-item list is the upload's ``result``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zipfile
from typing import IO, Any

from chalicelib.domain.errors import MdsError, ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import uploads

MAX_ITEMS = 100
MAX_CONFIG_BYTES = 1024 * 1024
_ITEM = re.compile(r"^(?:.*/)?([0-9]{8})\.zip$", re.IGNORECASE)
_CHUNK = 1024 * 1024


@uploads.processor("h5-batch")
def process_batch(record: Any) -> dict[str, Any]:
    from chalicelib.store import h5_files

    local, _size = h5_files.spool_object(record.object_key, etag=record.etag, max_bytes=record.max_bytes)
    with local:
        return import_batch(uploads.call_for(record), record.tenant, local)


def _plan(archive: zipfile.ZipFile) -> tuple[list[tuple[str, zipfile.ZipInfo]], dict[str, dict[str, Any]]]:
    items: list[tuple[str, zipfile.ZipInfo]] = []
    configs: list[zipfile.ZipInfo] = []
    for info in archive.infolist():
        name = info.filename
        if info.is_dir() or name.startswith("__MACOSX/") or name.rsplit("/", 1)[-1].startswith("."):
            continue
        if info.flag_bits & 0x1:
            raise ValidationError("file", f"member {name!r} is encrypted")
        if name.lower().endswith(".json"):
            configs.append(info)
            continue
        items.append((name, info))
    if len(configs) > 1:
        raise ValidationError("file", "holds more than one JSON config file")
    if not items:
        raise ValidationError("file", "holds no package zips (name them after the H5 ID: 12345678.zip)")
    if len(items) > MAX_ITEMS:
        raise ValidationError("file", f"holds {len(items)} packages; at most {MAX_ITEMS} per import")
    return items, _config(archive, configs[0]) if configs else {}


def _config(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, dict[str, Any]]:
    if info.file_size > MAX_CONFIG_BYTES:
        raise ValidationError("file", f"config {info.filename} is larger than {MAX_CONFIG_BYTES} bytes")
    with archive.open(info) as stream:
        raw = stream.read(MAX_CONFIG_BYTES + 1)
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValidationError("file", f"config {info.filename} is not valid JSON") from None
    if isinstance(data, list):
        entries = {str(e.get("h5Id")): e for e in data if isinstance(e, dict)}
    elif isinstance(data, dict):
        entries = {str(k): v for k, v in data.items()}
    else:
        raise ValidationError("file", f"config {info.filename} must be an object or a list of objects")
    for key, value in entries.items():
        if not isinstance(value, dict):
            raise ValidationError("file", f"config entry {key} must be an object")
    return entries


def import_batch(call: Any, tenant: TenantId, batch: IO[bytes]) -> dict[str, Any]:
    """Import every package of a batch zip; returns ``{"items": [...], "imported", "alreadyImported",
    "failed"}``. Raises ValidationError (``file``) only when the batch itself is unusable."""
    try:
        archive = zipfile.ZipFile(batch)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError("file", "is not a zip archive") from None
    with archive:
        items, config = _plan(archive)
        results = []
        for name, info in items:
            results.append(_import_one(call, tenant, archive, name, info, config))
    counts = {
        s: sum(1 for r in results if r["status"] == s) for s in ("imported", "alreadyImported", "failed")
    }
    return {"items": results, **counts}


def _import_one(
    call: Any,
    tenant: TenantId,
    archive: zipfile.ZipFile,
    name: str,
    info: zipfile.ZipInfo,
    config: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    from chalicelib.domain.uploads import PURPOSES

    result: dict[str, Any] = {"name": name, "h5Id": None, "status": "failed"}
    match = _ITEM.match(name)
    if match is None:
        result["error"] = "file: package zips must be named after their 8-digit H5 ID, e.g. 12345678.zip"
        return result
    h5_id = result["h5Id"] = match.group(1)
    limit = PURPOSES["h5-package"].max_bytes
    try:
        with tempfile.TemporaryFile() as local:
            digest, size = hashlib.sha256(), 0
            with archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise ValidationError("file", f"{name} expands to more than {limit} bytes")
                    digest.update(chunk)
                    local.write(chunk)
            local.seek(0)
            result.update(_create(call, tenant, h5_id, local, digest.hexdigest(), config.get(h5_id, {})))
    except MdsError as exc:
        result["error"] = exc.message
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        result["error"] = f"file: {name} cannot be read from the batch ({exc})"
    return result


def _create(
    call: Any, tenant: TenantId, h5_id: str, local: IO[bytes], sha256: str, fields: dict[str, Any]
) -> dict[str, Any]:
    from chalicelib.domain.h5 import ResourceStatus, next_version
    from chalicelib.packaging import h5zip
    from chalicelib.services import h5_resources
    from chalicelib.store import h5_records as store

    existing = [r for r in store.list_resources(tenant, h5_id) if r.status is not ResourceStatus.FAILED]
    for resource in existing:
        if resource.source_sha256 == sha256:
            return {
                "status": "alreadyImported",
                "resourceId": resource.id,
                "version": resource.version.text,
            }
    app = store.find_app(tenant, h5_id)
    spec: dict[str, Any] = {k: v for k, v in fields.items() if k not in ("h5Id", "name")}
    spec["h5Id"] = h5_id
    spec.setdefault("h5Name", fields.get("name") or (app.name if app else h5_id))
    spec.setdefault("version", next_version(r.version for r in existing))
    if not spec.get("resourceType"):
        if app is not None and app.resource_type is not None:
            spec["resourceType"] = app.resource_type.value
        else:
            tops = h5zip.top_folders(local)
            names = set(zipfile.ZipFile(local).namelist()) if tops else set()
            spec["resourceType"] = "normal" if f"{h5_id}/www/index.html" in names else "global"
            local.seek(0)
    spec.setdefault("platform", "all")
    spec.setdefault("clientVersionMin", "1.0.0;1.0.0")
    if spec["resourceType"] in ("normal", 1, "1"):
        spec.setdefault("mainUrl", "/www/index.html")
    parsed, app = h5_resources.validated(tenant, spec)
    made = h5_resources.create_ready(call, tenant, parsed, app, local, source_sha256=sha256)
    return {
        "status": "imported",
        "resourceId": made["id"],
        "version": made["version"],
        "appCreated": app is None,
    }
