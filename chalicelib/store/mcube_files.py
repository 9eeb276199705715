"""The S3 side of OpenAPI file uploads (GetMcubeFileToken → POST → ``FileUrl``).

Files land under ``files/`` in the artifacts bucket: a prefix with no ObjectCreated notification (only
``uploads/`` triggers processing), so a stored file waits until an action names it by ``FileUrl``.
A lifecycle rule is not needed for correctness; the objects are small in number (one per CI run).

``put_slice`` writes a part of a buffer the web layer already holds without copying it whole:
anything larger than one part goes up as an S3 multipart upload, one part-sized copy at a time.
"""

from __future__ import annotations

from typing import Any

from chalicelib.config import settings
from chalicelib.domain.errors import NotFound
from chalicelib.store.aws import client

PREFIX = "files/"
PART_BYTES = 16 * 1024 * 1024  # S3 parts are 5 MiB .. 5 GiB; 16 MiB keeps a 5 GB file under 10,000 parts


def object_key(key: str) -> str:
    """The artifacts-bucket key of the uploaded ``key`` (as the client named it)."""
    return PREFIX + key


def put_slice(key: str, data: memoryview, *, content_type: str = "application/octet-stream") -> int:
    """Store ``data`` (a view into a larger buffer) at ``files/<key>``; returns the size written."""
    s3, bucket, target = client("s3"), settings().artifacts_bucket, object_key(key)
    size = len(data)
    if size <= PART_BYTES:
        s3.put_object(Bucket=bucket, Key=target, Body=bytes(data), ContentType=content_type)
        return size
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=target, ContentType=content_type)["UploadId"]
    parts: list[dict[str, Any]] = []
    try:
        for number, start in enumerate(range(0, size, PART_BYTES), start=1):
            reply = s3.upload_part(
                Bucket=bucket,
                Key=target,
                UploadId=upload_id,
                PartNumber=number,
                Body=bytes(data[start : start + PART_BYTES]),
            )
            parts.append({"PartNumber": number, "ETag": reply["ETag"]})
        s3.complete_multipart_upload(
            Bucket=bucket, Key=target, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except Exception:
        s3.abort_multipart_upload(Bucket=bucket, Key=target, UploadId=upload_id)
        raise
    return size


def size_of(key: str) -> int:
    """The stored size of ``files/<key>``. Raises NotFound when nothing was uploaded there."""
    s3 = client("s3")
    try:
        return int(s3.head_object(Bucket=settings().artifacts_bucket, Key=object_key(key))["ContentLength"])
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            raise NotFound(f"no file was uploaded at {key}") from None
        raise


def read(key: str, *, max_bytes: int) -> bytes:
    """The whole file (small files only: RSA keys). Raises NotFound; ValueError when over ``max_bytes``."""
    s3 = client("s3")
    try:
        reply = s3.get_object(Bucket=settings().artifacts_bucket, Key=object_key(key))
    except s3.exceptions.NoSuchKey:
        raise NotFound(f"no file was uploaded at {key}") from None
    if reply["ContentLength"] > max_bytes:
        raise ValueError(f"the file is larger than {max_bytes} bytes")
    return reply["Body"].read()


class StreamingPut:
    """Write ``files/<key>`` from chunks of unknown total size, holding at most one part in memory:
    one ``PutObject`` when it all fits in a part, an S3 multipart upload otherwise. ``abort()``
    leaves nothing behind (call it on any failure before ``finish()``)."""

    def __init__(self, key: str, *, content_type: str = "application/octet-stream") -> None:
        self._s3, self._bucket, self._key = client("s3"), settings().artifacts_bucket, object_key(key)
        self._content_type = content_type
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self.size = 0

    def write(self, chunk: bytes | memoryview) -> None:
        self._buffer += chunk
        self.size += len(chunk)
        while len(self._buffer) >= PART_BYTES:
            self._send_part(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]

    def _send_part(self, data: bytes) -> None:
        if self._upload_id is None:
            self._upload_id = self._s3.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ContentType=self._content_type
            )["UploadId"]
        number = len(self._parts) + 1
        reply = self._s3.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=data
        )
        self._parts.append({"PartNumber": number, "ETag": reply["ETag"]})

    def finish(self) -> int:
        if self._upload_id is None:
            self._s3.put_object(
                Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer), ContentType=self._content_type
            )
        else:
            if self._buffer:
                self._send_part(bytes(self._buffer))
            self._s3.complete_multipart_upload(
                Bucket=self._bucket,
                Key=self._key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buffer.clear()
        return self.size

    def abort(self) -> None:
        self._buffer.clear()
        if self._upload_id is not None:
            self._s3.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
            self._upload_id = None
