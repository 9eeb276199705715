"""The S3 side of H5 packages.

- The built ``.amr`` and ``h5.json`` are kept privately in the artifacts bucket
  (``h5/<appId>/<workspaceId>/<h5Id>/<resourceId>/``): the source for console exports and for
  re-publication.
- While a version has live tasks, a copy is in the delivery bucket behind the CDN under an
  unguessable folder (``h5/<appId>/<workspaceId>/<h5Id>/<random>/``). Ending the last task of a version
  deletes that copy and invalidates the CDN paths, so an ended version can no longer be downloaded.
- A released *global* package's files are also online, unpacked, at ``<appId>_<workspaceId>/<path>``
  (the guide's ``http://domain/appId_workspaceId/path``), where normal packages' pages reference them
  by absolute URL: a device without the offline package still loads the page. The server does not
  version global resources (guide): the latest released version's files win at each path, and they
  stay online when its tasks end, because pages keep referencing them.
Bodies are streamed from/to local temporary files, never held whole in memory.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import IO, Any

from chalicelib.config import settings
from chalicelib.domain.h5 import PackageFiles
from chalicelib.domain.manifests import IMMUTABLE_CACHE
from chalicelib.domain.tenancy import TenantId
from chalicelib.store.aws import client

H5JSON_CACHE = "public, max-age=60"
ONLINE_CACHE = "public, max-age=300"  # a later global version replaces the file under the same path


def artifact_prefix(tenant: TenantId, h5_id: str, resource_id: str) -> str:
    return f"h5/{tenant.app_id}/{tenant.workspace_id}/{h5_id}/{resource_id}/"


def new_cdn_prefix(tenant: TenantId, h5_id: str) -> str:
    return f"h5/{tenant.app_id}/{tenant.workspace_id}/{h5_id}/{secrets.token_urlsafe(18)}/"


def cdn_url(key: str) -> str:
    return f"{settings().cdn_base_url}/{key}"


def online_prefix(tenant: TenantId) -> str:
    """Where a tenant's global H5 resources are online: ``<appId>_<workspaceId>/``."""
    return f"{tenant.app_id}_{tenant.workspace_id}/"


def put_online(key: str, body: IO[bytes]) -> None:
    """One file of a global package online (streamed), typed by its name so browsers use it as is."""
    import mimetypes

    kind = mimetypes.guess_type(key)[0] or "application/octet-stream"
    client("s3").upload_fileobj(
        body, settings().delivery_bucket, key, ExtraArgs={"ContentType": kind, "CacheControl": ONLINE_CACHE}
    )


def invalidate(keys: list[str]) -> None:
    """Drop CDN copies of paths whose bytes changed (global resources reuse their paths)."""
    from chalicelib.store import delivery

    delivery.invalidate(keys)


def put_package(files: PackageFiles, amr: IO[bytes], h5json: bytes) -> None:
    """Write the private copies, then the CDN copies. Raises on any failure (the caller cleans up)."""
    s3 = client("s3")
    artifacts = settings().artifacts_bucket
    amr.seek(0)
    s3.upload_fileobj(amr, artifacts, files.amr_key, ExtraArgs={"ContentType": "application/octet-stream"})
    s3.put_object(Bucket=artifacts, Key=files.h5json_key, Body=h5json, ContentType="application/json")
    publish(files)


def publish(files: PackageFiles) -> None:
    """(Re)place the CDN copies from the private ones (server-side copies; idempotent)."""
    s3 = client("s3")
    artifacts, delivery = settings().artifacts_bucket, settings().delivery_bucket
    for source, target, cache, kind in (
        (files.amr_key, files.cdn_amr, IMMUTABLE_CACHE, "application/octet-stream"),
        (files.h5json_key, files.cdn_h5json, H5JSON_CACHE, "application/json"),
    ):
        s3.copy_object(
            Bucket=delivery,
            Key=target,
            CopySource={"Bucket": artifacts, "Key": source},
            MetadataDirective="REPLACE",
            CacheControl=cache,
            ContentType=kind,
        )


def unpublish(files: PackageFiles, diff: Mapping[str, Any] | None = None) -> None:
    """Delete the CDN copies and drop them from CloudFront's caches: the version stops being downloadable."""
    from chalicelib.store import delivery

    s3 = client("s3")
    bucket = settings().delivery_bucket
    keys = [files.cdn_amr, files.cdn_h5json] + ([diff["cdnKey"]] if diff else [])
    for key in keys:
        _delete_all_versions(s3, bucket, key)
    delivery.invalidate(keys)


def discard(files: PackageFiles | None, diff: Mapping[str, Any] | None = None) -> None:
    """Forget every copy (a deleted H5 app or resource, or a half-made package)."""
    if files is None:
        return
    unpublish(files, diff)
    s3 = client("s3")
    for key in [files.amr_key, files.h5json_key] + ([diff["amrKey"]] if diff else []):
        _delete_all_versions(s3, settings().artifacts_bucket, key)


def diff_keys(files: PackageFiles, base_version: str) -> tuple[str, str]:
    """(private key, CDN key) of the diff package from ``base_version`` to this version."""
    name = files.amr_name.removesuffix(".amr") + f".from-{base_version}.diff.amr"
    return files.amr_key.rsplit("/", 1)[0] + "/" + name, files.cdn_prefix + name


def put_diff(amr_key: str, cdn_key: str, body: IO[bytes]) -> None:
    s3 = client("s3")
    body.seek(0)
    s3.upload_fileobj(
        body, settings().artifacts_bucket, amr_key, ExtraArgs={"ContentType": "application/octet-stream"}
    )
    publish_diff(amr_key, cdn_key)


def publish_diff(amr_key: str, cdn_key: str) -> None:
    client("s3").copy_object(
        Bucket=settings().delivery_bucket,
        Key=cdn_key,
        CopySource={"Bucket": settings().artifacts_bucket, "Key": amr_key},
        MetadataDirective="REPLACE",
        CacheControl=IMMUTABLE_CACHE,
        ContentType="application/octet-stream",
    )


def discard_diff(diff: Mapping[str, Any]) -> None:
    s3 = client("s3")
    _delete_all_versions(s3, settings().delivery_bucket, diff["cdnKey"])
    _delete_all_versions(s3, settings().artifacts_bucket, diff["amrKey"])


def spool_artifact(key: str) -> IO[bytes]:
    """A private copy (an .amr) streamed to a local temporary file."""
    import tempfile

    body = client("s3").get_object(Bucket=settings().artifacts_bucket, Key=key)["Body"]
    local = tempfile.TemporaryFile()
    while chunk := body.read(1024 * 1024):
        local.write(chunk)
    local.seek(0)
    return local


def _delete_all_versions(s3: Any, bucket: str, key: str) -> None:
    """In a versioned bucket a plain delete only hides the object; remove its versions too."""
    try:
        listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
    except Exception:  # noqa: BLE001 - buckets without versioning support answer plainly below
        listed = {}
    versions = [
        v for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []) if v.get("Key") == key
    ]
    for v in versions:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])
    s3.delete_object(Bucket=bucket, Key=key)


def export_url(key: str, filename: str, *, expires_in: int = 300) -> str:
    """A presigned GET of a private copy, saved under ``filename``."""
    return client("s3").generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings().artifacts_bucket,
            "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
        },
        ExpiresIn=expires_in,
    )


def exists(bucket_kind: str, key: str) -> bool:
    s3 = client("s3")
    bucket = settings().delivery_bucket if bucket_kind == "delivery" else settings().artifacts_bucket
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def spool_object(key: str, *, etag: str | None, max_bytes: int) -> tuple[IO[bytes], int]:
    """An object of the artifacts bucket (an upload) copied to a local temporary file, with its size."""
    import tempfile

    from chalicelib.domain.errors import ValidationError

    s3 = client("s3")
    try:
        extra = {"IfMatch": etag} if etag else {}  # the exact object the event reported
        reply = s3.get_object(Bucket=settings().artifacts_bucket, Key=key, **extra)
    except s3.exceptions.NoSuchKey:
        raise ValidationError("file", "was not found; upload it first") from None
    if reply["ContentLength"] > max_bytes:
        raise ValidationError("file", f"is larger than {max_bytes} bytes")
    local = tempfile.TemporaryFile()
    body, size = reply["Body"], 0
    while chunk := body.read(1024 * 1024):
        size += len(chunk)
        local.write(chunk)
    local.seek(0)
    return local, size
