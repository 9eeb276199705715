"""The S3 side of hotpatches: a checked patch file is copied (server side) from its upload to an
immutable path in the delivery bucket, which the CDN serves:
``hp/<appId>/<workspaceId>/<patchId>/<sha256>/<filename>`` (a new file means a new path, so the path
can be cached forever)."""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.domain.manifests import IMMUTABLE_CACHE
from chalicelib.domain.tenancy import TenantId
from chalicelib.store.aws import client


def delivery_path(tenant: TenantId, patch_id: str, sha256: str, filename: str) -> str:
    return f"hp/{tenant.app_id}/{tenant.workspace_id}/{patch_id}/{sha256}/{filename}"


def publish(record: Any, path: str) -> None:
    """Copy exactly the checked upload (``CopySourceIfMatch`` its ETag) to ``path`` in the delivery bucket."""
    publish_object(record.object_key, path, if_match=record.etag or "*")


def publish_object(source_key: str, path: str, *, if_match: str = "*") -> None:
    """Copy the artifacts-bucket object ``source_key`` (matching ``if_match``) to ``path`` on the CDN."""
    cfg = settings()
    client("s3").copy_object(
        Bucket=cfg.delivery_bucket,
        Key=path,
        CopySource={"Bucket": cfg.artifacts_bucket, "Key": source_key},
        CopySourceIfMatch=if_match,
        MetadataDirective="REPLACE",
        ContentType="application/octet-stream",
        CacheControl=IMMUTABLE_CACHE,
    )


def discard(path: str | None) -> None:
    if path:
        client("s3").delete_object(Bucket=settings().delivery_bucket, Key=path)


def read(path: str) -> bytes | None:
    s3 = client("s3")
    try:
        return s3.get_object(Bucket=settings().delivery_bucket, Key=path)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
