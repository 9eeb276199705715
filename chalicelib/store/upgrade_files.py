"""The S3 side of release packages: keep an uploaded file, hand out short-lived download links.

Uploads land under ``uploads/`` (expired after two days by a lifecycle rule); a file that passes
inspection is copied to ``upgrade/<appId>/<workspaceId>/<packageId>/<uploadId>/<filename>`` in the
versioned artifacts bucket and referenced by its VersionId, so a link always serves exactly the bytes
that were inspected and hashed.
"""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO, Any

from chalicelib.config import settings
from chalicelib.domain.errors import Conflict
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.upgrade import StoredFile
from chalicelib.store.aws import client

_CHUNK = 1024 * 1024


def spool(record: Any) -> tuple[IO[bytes], int, str, str]:
    """The uploaded file of ``record`` (a store.uploads.UploadRecord) copied to a local temporary file
    (Lambda's /tmp), with its size, SHA-256 and MD5 (mPaaS answers name it). Refuses a file replaced
    since its event (``IfMatch``)."""
    local, size, sha256, md5, _etag = spool_object(
        record.object_key, max_bytes=record.max_bytes, if_match=record.etag or "*"
    )
    return local, size, sha256, md5


def spool_object(
    key: str, *, max_bytes: int, if_match: str | None = None
) -> tuple[IO[bytes], int, str, str, str]:
    """An artifacts-bucket object (an upload, or a file the OpenAPI upload host stored) copied to a
    local temporary file, with its size, SHA-256, MD5 and ETag (to copy exactly these bytes later)."""
    extra = {"IfMatch": if_match} if if_match else {}
    reply = client("s3").get_object(Bucket=settings().artifacts_bucket, Key=key, **extra)
    if reply["ContentLength"] > max_bytes:
        raise Conflict(f"the file is larger than {max_bytes} bytes")
    digest, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    local = tempfile.TemporaryFile()
    body = reply["Body"]
    while chunk := body.read(_CHUNK):
        digest.update(chunk)
        md5.update(chunk)
        size += len(chunk)
        local.write(chunk)
    local.seek(0)
    return local, size, digest.hexdigest(), md5.hexdigest(), reply["ETag"]


def keep(tenant: TenantId, package_id: str, record: Any, *, size: int, sha256: str, md5: str) -> StoredFile:
    """Copy the upload to the package's permanent key; returns the exact version kept."""
    return keep_object(
        tenant,
        package_id,
        record.object_key,
        ref=record.upload_id,
        filename=record.filename,
        size=size,
        sha256=sha256,
        md5=md5,
        if_match=record.etag or "*",
    )


def keep_object(
    tenant: TenantId,
    package_id: str,
    source_key: str,
    *,
    ref: str,
    filename: str,
    size: int,
    sha256: str,
    md5: str,
    if_match: str = "*",
) -> StoredFile:
    """Copy ``source_key`` to ``upgrade/<appId>/<workspaceId>/<packageId>/<ref>/<filename>``."""
    key = f"upgrade/{tenant.app_id}/{tenant.workspace_id}/{package_id}/{ref}/{filename}"
    bucket = settings().artifacts_bucket
    reply = client("s3").copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": source_key},
        CopySourceIfMatch=if_match,
    )
    return StoredFile(
        object_key=key,
        version_id=reply.get("VersionId"),
        filename=filename,
        size=size,
        sha256=sha256,
        md5=md5,
    )


def discard(stored: StoredFile | None) -> None:
    """Forget a kept file (a delete marker; the lifecycle rule removes old versions)."""
    if stored is not None:
        client("s3").delete_object(Bucket=settings().artifacts_bucket, Key=stored.object_key)


def download_url(stored: StoredFile, *, expires_in: int, content_type: str | None = None) -> str:
    """A presigned GET of exactly the kept version, saved under its original file name."""
    params: dict[str, Any] = {
        "Bucket": settings().artifacts_bucket,
        "Key": stored.object_key,
        "ResponseContentDisposition": f'attachment; filename="{stored.filename}"',
    }
    if stored.version_id:
        params["VersionId"] = stored.version_id
    if content_type:
        params["ResponseContentType"] = content_type
    return client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
