"""Upload records and the S3 side of uploads (presigned POST policies)."""

from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import UpdateError

from chalicelib.config import settings
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.uploads import UploadStatus
from chalicelib.store.aws import client
from chalicelib.store.models import UploadModel
from chalicelib.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class UploadRecord:
    tenant: TenantId
    upload_id: str
    purpose: str
    filename: str
    object_key: str
    max_bytes: int
    status: UploadStatus
    created_at: str
    created_by: str
    size: int | None = None
    etag: str | None = None
    received_at: str | None = None
    error: str | None = None
    subject: str | None = None
    result: dict | None = None

    def view(self) -> dict:
        return {
            "uploadId": self.upload_id,
            "purpose": self.purpose,
            "filename": self.filename,
            "objectKey": self.object_key,
            "maxBytes": self.max_bytes,
            "status": self.status.value,
            "size": self.size,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "receivedAt": self.received_at,
            "error": self.error,
            "subject": self.subject,
            "result": self.result,
        }


def _from_model(m: UploadModel) -> UploadRecord:
    return UploadRecord(
        tenant=TenantId.from_key(m.tenant),
        upload_id=m.upload_id,
        purpose=m.purpose,
        filename=m.filename,
        object_key=m.object_key,
        max_bytes=int(m.max_bytes),
        status=UploadStatus(m.status),
        created_at=m.created_at,
        created_by=m.created_by,
        size=int(m.size) if m.size is not None else None,
        etag=m.etag,
        received_at=m.received_at,
        error=m.error,
        subject=m.subject,
        result=m.result,
    )


def add(uow: UnitOfWork, record: UploadRecord) -> None:
    uow.save(
        UploadModel(
            tenant=record.tenant.key,
            upload_id=record.upload_id,
            purpose=record.purpose,
            filename=record.filename,
            object_key=record.object_key,
            max_bytes=record.max_bytes,
            status=record.status.value,
            created_at=record.created_at,
            created_by=record.created_by,
            subject=record.subject,
        ),
        condition=UploadModel.upload_id.does_not_exist(),
        on_conflict=Conflict("upload id collision; try again"),
    )


def get(tenant: TenantId, upload_id: str) -> UploadRecord:
    try:
        return _from_model(UploadModel.get(tenant.key, upload_id, consistent_read=True))
    except UploadModel.DoesNotExist:
        raise NotFound(f"upload {upload_id} not found") from None


def mark_received(
    tenant: TenantId, upload_id: str, *, size: int, etag: str, at: str, error: str | None = None
) -> bool:
    """Pending → received (or failed, with ``error``), once. False if it had already moved on
    (a redelivered event)."""
    model = UploadModel(tenant=tenant.key, upload_id=upload_id)
    status = UploadStatus.FAILED if error else UploadStatus.RECEIVED
    try:
        model.update(
            actions=[
                UploadModel.status.set(status.value),
                UploadModel.size.set(size),
                UploadModel.etag.set(etag),
                UploadModel.received_at.set(at),
                # pynamodb's set() writes None as NULL, but its types leave None out
                UploadModel.error.set(error),  # type: ignore[arg-type]
            ],
            # only a pending upload moves: a second event for the same object changes nothing
            condition=UploadModel.status == UploadStatus.PENDING.value,
            add_version_condition=False,
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def presigned_post(object_key: str, *, max_bytes: int, expires_in: int) -> dict:
    """A POST policy for exactly one key, 1..max_bytes long (S3 refuses anything else)."""
    return client("s3").generate_presigned_post(
        Bucket=settings().artifacts_bucket,
        Key=object_key,
        Conditions=[["content-length-range", 1, max_bytes]],
        ExpiresIn=expires_in,
    )


def finish(tenant: TenantId, upload_id: str, *, result: dict | None = None, error: str | None = None) -> None:
    """Received → processed (with what processing reported) or failed (with why). Finishing an upload
    another delivery of the same event already finished changes nothing."""
    status = UploadStatus.FAILED if error else UploadStatus.PROCESSED
    try:
        UploadModel(tenant=tenant.key, upload_id=upload_id).update(
            actions=[
                UploadModel.status.set(status.value),
                UploadModel.result.set(result),
                UploadModel.error.set(error),  # type: ignore[arg-type]  # None: NULL (as above)
            ],
            condition=UploadModel.status == UploadStatus.RECEIVED.value,
            add_version_condition=False,
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def read_object(record: UploadRecord) -> bytes:
    """The uploaded file, refusing one replaced since its event (``IfMatch``) or over the limit."""
    reply = client("s3").get_object(
        Bucket=settings().artifacts_bucket, Key=record.object_key, IfMatch=record.etag or "*"
    )
    if reply["ContentLength"] > record.max_bytes:
        raise Conflict(f"the file is larger than {record.max_bytes} bytes")
    return reply["Body"].read()
