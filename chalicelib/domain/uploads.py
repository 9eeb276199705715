"""Uploads: files go straight from the browser/CLI to S3 with a presigned POST, never through the API.

An ``Upload`` is created first (what the file is for, its name and size limit); the POST policy
pins the exact object key and the size range; S3's ObjectCreated event then marks it received
and hands it to the processor registered for its purpose.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from chalicelib.domain.errors import ValidationError
from chalicelib.domain.tenancy import TenantId

MB = 1024 * 1024
KEY_PREFIX = "uploads/"


@dataclass(frozen=True)
class Purpose:
    name: str
    max_bytes: int
    extensions: tuple[str, ...]
    subject: str | None = None  # the entity such a file must be tied to, e.g. "whitelist"


# What each product accepts. Limits follow the mPaaS user guide where it names one.
PURPOSES = {
    p.name: p
    for p in (
        Purpose("h5-package", 100 * MB, (".zip",)),
        Purpose("h5-batch", 300 * MB, (".zip",)),
        Purpose("whitelist", 64 * MB, (".txt", ".csv"), subject="whitelist"),
        Purpose("android-package", 1024 * MB, (".apk",), subject="upgrade package"),
        Purpose("ios-package", 2048 * MB, (".ipa",), subject="upgrade package"),
        Purpose("ios-symbols", 1024 * MB, (".tgz", ".tar.gz"), subject="upgrade package"),
        Purpose("upgrade-icon", 2 * MB, (".png", ".jpg", ".jpeg"), subject="upgrade package"),
        Purpose("icon", 2 * MB, (".png", ".jpg", ".jpeg")),
        Purpose("rsa-key", 64 * 1024, (".pem", ".key")),
        Purpose("hotpatch", 50 * MB, (".zip", ".js", ".lua", ".patch", ".bin")),
        Purpose("config-import", 32 * MB, (".json",)),
    )
}


class UploadStatus(enum.StrEnum):
    PENDING = "pending"  # token handed out, no file yet
    RECEIVED = "received"  # file landed; waiting for (or not needing) processing
    PROCESSED = "processed"
    FAILED = "failed"


_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def validate_filename(purpose: Purpose, filename: object) -> str:
    if not isinstance(filename, str) or not _FILENAME.match(filename) or ".." in filename:
        raise ValidationError(
            "filename", "1-128 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if not filename.lower().endswith(purpose.extensions):
        raise ValidationError(
            "filename", f"must end with {' or '.join(purpose.extensions)} for purpose {purpose.name}"
        )
    return filename


def parse_purpose(value: object) -> Purpose:
    if value not in PURPOSES:
        raise ValidationError("purpose", f"must be one of: {', '.join(sorted(PURPOSES))}")
    return PURPOSES[value]


def object_key(tenant: TenantId, upload_id: str, filename: str) -> str:
    return f"{KEY_PREFIX}{tenant.app_id}/{tenant.workspace_id}/{upload_id}/{filename}"


@dataclass(frozen=True)
class UploadRef:
    tenant: TenantId
    upload_id: str
    filename: str


def parse_object_key(key: str) -> UploadRef | None:
    """The upload an object key belongs to, or None for keys we never handed out."""
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX) :].split("/")
    if len(parts) != 4 or not all(parts):
        return None
    app_id, workspace_id, upload_id, filename = parts
    return UploadRef(TenantId(app_id, workspace_id), upload_id, filename)


def check_subject(purpose: Purpose, subject: str | None) -> None:
    """A file for a specific entity (an ID list for one whitelist) must name it; see its import endpoint."""
    if purpose.subject and not subject:
        raise ValidationError(
            "purpose", f"{purpose.name} files are uploaded through the {purpose.subject} import endpoint"
        )
