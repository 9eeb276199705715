"""multipart/form-data as the upload host reads it (an OSS PostObject-style form, spec §7): the
boundary of a Content-Type, the name and file name of a part, and a whole body parsed in place (field
offsets found with ``bytes.find``, the file a ``memoryview`` of the body, so it is never held twice).
Used by the Lambda route (api/file_upload.py) and the streaming local upload host (mds/upload_host.py).
"""

from __future__ import annotations

from chalicelib.domain.errors import ValidationError

MAX_FIELD = 64 * 1024  # every field but the file is a short text


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], memoryview | None, str]:
    """``(text fields, file bytes as a view into body, file name)`` of a multipart/form-data body.

    Raises:
        ValidationError: naming ``body`` (or the field) when the form is malformed.
    """
    boundary = boundary_of(content_type)
    delimiter = b"--" + boundary
    view = memoryview(body)
    fields: dict[str, str] = {}
    file_part: memoryview | None = None
    filename = ""
    pos = body.find(delimiter)
    if pos < 0:
        raise ValidationError("body", "is not a multipart/form-data body with the declared boundary")
    while True:
        pos += len(delimiter)
        if body[pos : pos + 2] == b"--":
            break  # closing delimiter
        if body[pos : pos + 2] != b"\r\n":
            raise ValidationError("body", "malformed multipart delimiter line")
        header_end = body.find(b"\r\n\r\n", pos + 2, pos + 2 + MAX_FIELD)
        if header_end < 0:
            raise ValidationError("body", "a multipart part has no header end")
        headers = bytes(view[pos + 2 : header_end]).decode("utf-8", errors="replace")
        name, part_filename = disposition(headers)
        start = header_end + 4
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise ValidationError("body", "a multipart part is not terminated")
        if name == "file":
            file_part, filename = view[start:end], part_filename or ""
        elif name:
            if end - start > MAX_FIELD:
                raise ValidationError(name, f"must be at most {MAX_FIELD} bytes")
            fields[name] = bytes(view[start:end]).decode("utf-8", errors="strict")
        pos = end + 2
    return fields, file_part, filename


def boundary_of(content_type: str) -> bytes:
    for piece in content_type.split(";")[1:]:
        name, _, value = piece.strip().partition("=")
        if name.lower() == "boundary" and value:
            value = value.strip('"')
            if 1 <= len(value) <= 200:
                return value.encode("latin-1")
    raise ValidationError("Content-Type", "must be multipart/form-data with a boundary")


def disposition(headers: str) -> tuple[str, str | None]:
    for line in headers.split("\r\n"):
        head, _, value = line.partition(":")
        if head.strip().lower() != "content-disposition":
            continue
        name = filename = None
        for piece in value.split(";")[1:]:
            key, _, raw = piece.strip().partition("=")
            raw = raw.strip()
            if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                raw = raw[1:-1]
            if key.lower() == "name":
                name = raw
            elif key.lower() == "filename":
                filename = raw
        return name or "", filename
    return "", None
