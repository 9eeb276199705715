"""Handing out upload tokens, and taking delivery of the files when S3 says they arrived.

Products register a processor per purpose (``@processor("h5-package")``); the event handler
marks the upload received exactly once per object and runs the processor. Redelivered events
(SQS is at-least-once) find the upload already received and do nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from chalicelib.domain.access import Permission, Principal, PrincipalKind
from chalicelib.domain.errors import MdsError
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.time_zones import iso
from chalicelib.domain.uploads import (
    UploadStatus,
    check_subject,
    object_key,
    parse_object_key,
    parse_purpose,
    validate_filename,
)
from chalicelib.logs import log
from chalicelib.services import audit
from chalicelib.services.context import Call

TOKEN_LIFETIME = timedelta(minutes=15)

# A processor receives the store.uploads.UploadRecord and returns what to report on the upload;
# raising an MdsError marks the upload failed with that message.
Processor = Callable[[Any], dict[str, Any] | None]
PROCESSORS: dict[str, Processor] = {}


def processor(purpose: str) -> Callable[[Processor], Processor]:
    def register(fn: Processor) -> Processor:
        PROCESSORS[purpose] = fn
        return fn

    return register


def request_upload(
    call: Call, tenant: TenantId, *, purpose: str, filename: str, subject: str | None = None
) -> dict[str, Any]:
    """Create a pending upload and the presigned POST the client sends the file with.

    ``subject`` names the entity the file is for (e.g. the whitelist an ID file imports into);
    callers check their own permission on it first."""
    from chalicelib.store import uploads
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="upload.create")
    record = new_record(call, tenant, purpose=purpose, filename=filename, subject=subject)
    check_subject(parse_purpose(purpose), subject)
    uow = UnitOfWork()
    uploads.add(uow, record)
    uow.audit(audit.entry(call, tenant, "upload.create", "upload", record.upload_id, after=record.view()))
    uow.commit()
    return upload_token(call, record)


def new_record(call: Call, tenant: TenantId, *, purpose: str, filename: str, subject: str | None) -> Any:
    """A pending ``store.uploads.UploadRecord`` (not yet written: products that create the file's
    subject in the same transaction add it to their own unit of work). Validates the filename."""
    from chalicelib.store import uploads

    kind = parse_purpose(purpose)
    filename = validate_filename(kind, filename)
    upload_id = uuid.uuid4().hex
    return uploads.UploadRecord(
        tenant=tenant,
        upload_id=upload_id,
        purpose=kind.name,
        filename=filename,
        object_key=object_key(tenant, upload_id, filename),
        max_bytes=kind.max_bytes,
        status=UploadStatus.PENDING,
        created_at=call.at,
        created_by=call.actor,
        subject=subject,
    )


def upload_token(call: Call, record: Any) -> dict[str, Any]:
    """The upload as the client sees it, with the presigned POST pinned to its key and size range."""
    from chalicelib.store import uploads

    post = uploads.presigned_post(
        record.object_key, max_bytes=record.max_bytes, expires_in=int(TOKEN_LIFETIME.total_seconds())
    )
    return {
        **record.view(),
        "post": {"url": post["url"], "fields": post["fields"]},
        "expiresAt": iso(call.now + TOKEN_LIFETIME),
    }


def get_upload(call: Call, tenant: TenantId, upload_id: str) -> dict[str, Any]:
    from chalicelib.store import uploads

    audit.check(call, tenant, Permission.READ, action="upload.read")
    return uploads.get(tenant, upload_id).view()


def object_created(key: str, *, size: int, etag: str, at: str) -> None:
    """One S3 ObjectCreated record. Idempotent: the same object twice is processed once."""
    from chalicelib.domain.errors import NotFound
    from chalicelib.store import uploads

    ref = parse_object_key(unquote_plus(key))  # moto quote_plus-encodes keys in events; AWS encodes too
    if ref is None:
        log(logging.WARNING, "object outside any upload ignored", key=key)
        return
    try:
        record = uploads.get(ref.tenant, ref.upload_id)
    except NotFound:
        log(logging.WARNING, "object for an unknown upload ignored", key=key)
        return
    # S3 enforces the POST policy; this guards against files written some other way.
    error = (
        f"file is {size} bytes; the limit for {record.purpose} is {record.max_bytes}"
        if size > record.max_bytes
        else None
    )
    handle = PROCESSORS.get(record.purpose)
    if not uploads.mark_received(
        ref.tenant, ref.upload_id, size=size, etag=etag.strip('"'), at=at, error=error
    ):
        current = uploads.get(ref.tenant, ref.upload_id)
        # Received but never finished: an earlier attempt failed on something transient (it raised,
        # so SQS redelivered). Processors are idempotent, so run it again; anything else is a duplicate.
        if not (current.status is UploadStatus.RECEIVED and current.etag == etag.strip('"') and handle):
            log(logging.INFO, "duplicate upload event ignored", key=key, uploadId=ref.upload_id)
            return
    if handle is None or error is not None:
        return
    received = uploads.get(ref.tenant, ref.upload_id)
    try:
        result = handle(received)
    except MdsError as exc:  # the file is bad: record why; retrying would not help
        uploads.finish(ref.tenant, ref.upload_id, error=exc.message)
    else:
        uploads.finish(ref.tenant, ref.upload_id, result=result)


def call_for(record: Any) -> Call:
    """The caller a background processor acts for: whoever requested the upload."""
    kind, _, ident = record.created_by.partition(":")
    principal = Principal(kind=PrincipalKind(kind), id=ident)
    return Call(principal=principal, request_id=f"upload-{record.upload_id}")
