"""Upload tokens for the mPaaS OpenAPI (``GetMcubeFileToken``) and the files they let a client store.

mPaaS tooling uploads OSS-PostObject style with exactly six token fields (spec §7): it POSTs
``key`` (starting with ``Dir``), ``OSSAccessKeyId`` (= ``Accessid``), ``policy``, ``Signature`` and
``file`` to ``Host``, then passes ``Host + "/" + key`` as ``FileUrl``. Here:

- ``Policy`` is base64 of an OSS/S3-style policy document:
  ``{"expiration": ISO, "conditions": [["starts-with", "$key", Dir], ["content-length-range", 1, N]]}``.
- ``Signature`` is base64(HMAC-SHA1(policy secret, Policy)), OSS's own scheme. The policy secret is
  derived from the deployment's master key (``SecretBox.derive``), so nothing new is stored and
  nothing is per-request state: the signed policy *is* the grant.
- ``Dir`` is ``<appId>/<workspaceId>/<random>/``: the tenant is inside the signed policy, so a file
  can only be stored under the workspace that asked for the token, and a ``FileUrl`` whose key lies
  under another workspace's directory is refused.
- ``Host`` is ``<API base>/mcube-files`` (``api/file_upload.py``); files are stored in the artifacts
  bucket under ``files/<key>``, a prefix that triggers no upload processing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from chalicelib.domain.errors import Forbidden, NotFound, ValidationError
from chalicelib.domain.tenancy import TenantId
from chalicelib.services.context import Call

ROUTE = "/mcube-files"
ACCESS_ID = "MDSFILES1"  # names the policy secret (a rotation would add MDSFILES2)
MAX_FILE_BYTES = 300 * 1024 * 1024  # the largest H5 upload: a batch zip (purpose h5-batch)
TOKEN_TTL = timedelta(hours=1)
_PURPOSE = "mcube-file-policy:v1"
_MAX_KEY = 512


class PolicyRefused(Forbidden):
    """The upload form's policy, signature or key does not allow this upload."""

    CODE = "AccessDenied"


@dataclass(frozen=True)
class UploadGrant:
    """What a verified upload form allows: one key, at most ``max_bytes`` long."""

    key: str
    max_bytes: int
    tenant: TenantId


def host() -> str:
    from chalicelib.config import settings

    cfg = settings()
    return cfg.file_upload_host or cfg.api_base_url + ROUTE


def _secret() -> bytes:
    from chalicelib.security.secretbox import SecretBox
    from chalicelib.store.keyring import master_key

    return SecretBox(master_key()).derive(_PURPOSE)


def _sign(policy: str) -> str:
    return base64.b64encode(hmac.new(_secret(), policy.encode("ascii"), hashlib.sha1).digest()).decode()


def issue(call: Call, tenant: TenantId) -> dict[str, str]:
    """The six token fields, for one fresh directory of ``tenant``, valid for ``TOKEN_TTL``."""
    expires = call.now.replace(microsecond=0) + TOKEN_TTL
    directory = f"{tenant.app_id}/{tenant.workspace_id}/{secrets.token_hex(12)}/"
    document = {
        "expiration": expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "conditions": [["starts-with", "$key", directory], ["content-length-range", 1, MAX_FILE_BYTES]],
    }
    policy = base64.b64encode(json.dumps(document, separators=(",", ":")).encode()).decode()
    return {
        "accessid": ACCESS_ID,
        "dir": directory,
        "expire": str(int(expires.timestamp())),
        "host": host(),
        "policy": policy,
        "signature": _sign(policy),
    }


def verify(fields: dict[str, str], *, now: datetime) -> UploadGrant:
    """Check an upload form (OSS names, or the S3 equivalents ``AWSAccessKeyId`` / ``signature``).

    Raises:
        ValidationError: a missing or malformed field (named).
        PolicyRefused: wrong signature, expired policy, key outside ``Dir``.
    """
    lowered = {name.lower(): value for name, value in fields.items()}
    for name in ("key", "policy", "signature"):
        if not lowered.get(name):
            raise ValidationError(name, "is required")
    access_id = lowered.get("ossaccesskeyid") or lowered.get("awsaccesskeyid") or ""
    if access_id != ACCESS_ID:
        raise PolicyRefused("OSSAccessKeyId: is not an access id of this server")
    policy = lowered["policy"]
    if not hmac.compare_digest(_sign(policy), lowered["signature"]):
        raise PolicyRefused("Signature: the policy signature does not match")
    try:
        document = json.loads(base64.b64decode(policy, validate=True))
        expiration = datetime.fromisoformat(document["expiration"].replace("Z", "+00:00"))
        conditions = document["conditions"]
        directory = next(c[2] for c in conditions if c[:2] == ["starts-with", "$key"])
        max_bytes = next(int(c[2]) for c in conditions if c[0] == "content-length-range")
    except (ValueError, KeyError, TypeError, IndexError, StopIteration):
        raise ValidationError("policy", "is not a policy this server issued") from None
    if expiration <= now:
        raise PolicyRefused("policy: expired; ask GetMcubeFileToken for a new token")
    key = lowered["key"].replace("${filename}", lowered.get("filename", "file"))
    if not key.startswith(directory) or len(key) == len(directory):
        raise PolicyRefused(f"key: must start with the token's Dir {directory} and name a file")
    _check_key(key)
    app_id, workspace_id, _ = directory.split("/", 2)
    return UploadGrant(key=key, max_bytes=max_bytes, tenant=TenantId(app_id, workspace_id))


def _check_key(key: str) -> None:
    parts = key.split("/")
    if len(key) > _MAX_KEY or any(p in ("", ".", "..") for p in parts) or "\\" in key:
        raise ValidationError("key", f"must be a relative path of at most {_MAX_KEY} characters")
    if any(ord(ch) < 32 for ch in key):
        raise ValidationError("key", "must not contain control characters")


def store(grant: UploadGrant, data: memoryview) -> int:
    """Write the uploaded bytes under ``files/<key>``; returns the size."""
    from chalicelib.store import mcube_files

    if not 1 <= len(data) <= grant.max_bytes:
        raise ValidationError("file", f"must be 1 to {grant.max_bytes} bytes long")
    return mcube_files.put_slice(grant.key, data)


def writer(grant: UploadGrant) -> Any:
    """A streaming writer for ``grant``'s key (``write(chunk)``, ``finish() -> size``, ``abort()``): the
    streaming upload host (``mds/upload_host.py``) uses it so a large file never sits in memory."""
    from chalicelib.store import mcube_files

    return mcube_files.StreamingPut(grant.key)


def resolve(tenant: TenantId, file_url: str, *, field: str = "FileUrl") -> str:
    """The uploaded file's key (as given in the form) from a ``FileUrl``, checked to belong to ``tenant``
    and to exist. Raises ValidationError naming ``field``."""
    from chalicelib.store import mcube_files

    if not file_url:
        raise ValidationError(field, "is required")
    key = _key_of(file_url.strip())
    if key is None:
        raise ValidationError(
            field, f"must be a URL returned by an upload to the token's Host ({host()}/<key>)"
        )
    if not key.startswith(f"{tenant.app_id}/{tenant.workspace_id}/"):
        raise ValidationError(field, "names a file uploaded for another workspace")
    try:
        _check_key(key)
        mcube_files.size_of(key)
    except (ValidationError, NotFound):
        raise ValidationError(field, "no file was uploaded at this URL") from None
    return key


def _key_of(file_url: str) -> str | None:
    """The key part of ``<Host>/<key>``: after ``/mcube-files/`` (the API route, whatever host name the
    client used), or after the configured upload host (``MDS_FILE_UPLOAD_HOST``)."""
    path = unquote(urlsplit(file_url).path)
    marker = ROUTE + "/"
    if marker in path:
        return path.split(marker, 1)[1]
    configured = host()
    if file_url.startswith(configured + "/"):
        return unquote(urlsplit(file_url[len(configured) + 1 :]).path)
    return None


def s3_key(key: str) -> str:
    """The artifacts-bucket object key of an uploaded file (what H5 resource processing reads)."""
    from chalicelib.store import mcube_files

    return mcube_files.object_key(key)


def read_small(tenant: TenantId, file_url: str, *, max_bytes: int, field: str = "FileUrl") -> bytes:
    """The bytes of a small uploaded file (an RSA key). Raises ValidationError naming ``field``."""
    from chalicelib.store import mcube_files

    key = resolve(tenant, file_url, field=field)
    try:
        return mcube_files.read(key, max_bytes=max_bytes)
    except ValueError:
        raise ValidationError(field, f"the file must be at most {max_bytes} bytes") from None
