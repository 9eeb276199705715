"""Alibaba Cloud OpenAPI request signatures: verify what the official mPaaS SDKs send, and sign our own.

Two schemes arrive (spec/mpaas-openapi-wire.md §2):

* **ACS3-HMAC-SHA256** (§4.1) — Tea SDK default (``alibabacloud_mpaas20201028``). Everything is in
  headers; ``Authorization: ACS3-HMAC-SHA256 Credential=<ak>,SignedHeaders=<h1;h2>,Signature=<hex>``.
* **RPC HMAC-SHA1 v1.0** (§4.2) — ``aliyunsdkcore`` ``CommonRequest``, Java core SDK and Tea with
  ``signature_algorithm='v2'``. Common parameters in the query string, ``Signature`` among them;
  business parameters in the form body, which are signed too.

This module is pure (stdlib only, no I/O). Typical server use::

    request = SignedRequest(method, path, query, headers, raw_body)
    creds = identify(request)                       # which scheme / key / action; cheap, no secret
    secret = lookup(creds.access_key_id)            # caller: unknown key -> raise UnknownAccessKey
    verify(request, creds, secret, now=utc_now())   # signature, then timestamp window
    record_nonce(creds.nonce, ttl=15 min)           # caller: conditional put -> NonceUsed

**Order matters**: record the nonce only *after* ``verify`` has passed. Nonce replay is not checked
here; if a caller recorded nonces before checking the signature, anyone could burn nonces (and so
block legitimate retries) with unauthenticated garbage. ``verify`` checks the signature before the
timestamp, so an expired-but-authentic request gets ``TimestampExpired`` and a forged one gets
``SignatureMismatch`` whatever its date.

Errors (``chalicelib.domain.errors``):

* no ``Authorization: ACS3-…`` header and no ``Signature`` query parameter → ``SignatureMissing``;
* a missing common parameter (``x-acs-action``, ``Timestamp``, ``AccessKeyId``, …) →
  ``MissingParameter`` naming it; a malformed one (bad date, unparsable ``Authorization``,
  unsupported algorithm, non-UTF-8 form body) → ``ValidationError`` naming it;
* ACS3 ``SignedHeaders`` lacking one of the headers §4.1 step 3 requires → ``MissingParameter``
  with field ``SignedHeaders.<name>`` (a client problem, not a wrong secret — the request is
  rejected before any HMAC is computed);
* wrong secret, tampered body / signed header / query / form parameter → ``SignatureMismatch``
  carrying the server's string-to-sign (its message has ``:`` before it, for aliyunsdkcore);
* timestamp more than ``max_skew`` away from ``now`` → ``TimestampExpired``.

Canonicalisation inputs: ``SignedRequest.path`` and ``query`` are the *decoded* path and query (as web
frameworks hand them over); this module re-encodes them RFC 3986 style. The body is the raw bytes —
never re-encode a form body before verifying. Header lookup is case-insensitive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from urllib.parse import parse_qsl, quote

from chalicelib.domain.errors import (
    MissingParameter,
    SignatureMismatch,
    SignatureMissing,
    TimestampExpired,
    ValidationError,
)

__all__ = [
    "ACS3_HMAC_SHA256",
    "RPC_HMAC_SHA1",
    "REQUIRED_SIGNED_HEADERS",
    "Credentials",
    "SignedRequest",
    "acs3_canonical_request",
    "acs3_string_to_sign",
    "canonical_query_string",
    "canonical_uri",
    "form_params",
    "format_timestamp",
    "identify",
    "percent_encode",
    "rpc_string_to_sign",
    "sign_acs3",
    "sign_rpc",
    "verify",
]

ACS3_HMAC_SHA256 = "ACS3-HMAC-SHA256"
RPC_HMAC_SHA1 = "HMAC-SHA1"  # RPC signature, SignatureVersion 1.0

# §4.1 step 3: these must be covered by the ACS3 signature.
REQUIRED_SIGNED_HEADERS = (
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
DEFAULT_MAX_SKEW = timedelta(minutes=15)
_TIMESTAMP_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$")
_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


# --------------------------------------------------------------------------------------------------
# Inputs and outputs


@dataclass(frozen=True)
class SignedRequest:
    """An incoming request as the verifier needs it.

    ``headers`` are stored with lower-case names (case-insensitive lookup); ``method`` upper-case.
    ``path`` and ``query`` are decoded; ``body`` is the raw bytes exactly as received.
    """

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict, hash=False)
    headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    body: bytes = b""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "method", self.method.upper())
        set_(self, "path", self.path or "/")
        set_(self, "query", MappingProxyType(dict(self.query or {})))
        set_(self, "headers", MappingProxyType({k.lower(): v for k, v in (self.headers or {}).items()}))
        body = self.body or b""
        set_(self, "body", body.encode("utf-8") if isinstance(body, str) else bytes(body))

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Credentials:
    """What ``identify`` reads from a request (no secret involved)."""

    scheme: str  # ACS3_HMAC_SHA256 or RPC_HMAC_SHA1
    access_key_id: str
    action: str
    version: str
    nonce: str
    timestamp: datetime  # aware, UTC
    signature: str = field(default="", repr=False)
    signed_headers: tuple[str, ...] = ()  # ACS3 only: lower-case, sorted, as in SignedHeaders


# --------------------------------------------------------------------------------------------------
# Shared helpers (§4.1 step 3 encoding, §4.2 timestamps)


def percent_encode(value: str) -> str:
    """RFC 3986: keep ``A-Za-z0-9-_.~``, UTF-8 percent-encode the rest (space → %20, ``*`` → %2A)."""
    return quote(value, safe="-_.~", encoding="utf-8")


def canonical_query_string(params: Mapping[str, str]) -> str:
    """Parameters sorted by name (code point = UTF-8 byte order), ``enc(k)=enc(v)`` joined by ``&``.

    Also the safest way to *send* a query string: it decodes back to exactly ``params``.
    """
    return "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))


def format_timestamp(now: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC, as ``x-acs-date`` and ``Timestamp`` carry it."""
    return _aware(now, "now").astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


def _parse_timestamp(value: str | None, name: str) -> datetime:
    if value is None or value == "":
        raise MissingParameter(name)
    m = _TIMESTAMP_RE.match(value.strip())
    if not m:
        raise ValidationError(name, "must be a UTC timestamp YYYY-MM-DDThh:mm:ssZ")
    y, mo, d, h, mi, s, frac = m.groups()
    try:
        return datetime(
            int(y), int(mo), int(d), int(h), int(mi), int(s), int((frac or "0").ljust(6, "0")), tzinfo=UTC
        )
    except ValueError:
        raise ValidationError(name, "must be a UTC timestamp YYYY-MM-DDThh:mm:ssZ") from None


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (use datetime.now(UTC))")
    return value


def _required(value: str | None, name: str) -> str:
    if value is None or value.strip() == "":
        raise MissingParameter(name)
    return value.strip()


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _check_timestamp(timestamp: datetime, now: datetime, max_skew: timedelta, name: str) -> None:
    """§4.1 step 5 / §4.2: the request date must be within ±max_skew of server time (inclusive)."""
    skew = abs(_aware(now, "now") - timestamp)
    if skew > max_skew:
        raise TimestampExpired(
            f"{name} {format_timestamp(timestamp)} is more than {int(max_skew.total_seconds() // 60)} "
            f"minutes away from server time {format_timestamp(now)}"
        )


# --------------------------------------------------------------------------------------------------
# Business parameters (§3)


def form_params(request: SignedRequest) -> dict[str, str]:
    """Business parameters from an ``application/x-www-form-urlencoded`` body (spec §3).

    Last value wins for repeated keys, blank values are kept (``TenantId=`` → ``""``). Any other
    content type (or no body) gives ``{}``. A body that is not UTF-8 → ``ValidationError('body')``.
    """
    content_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type != FORM_CONTENT_TYPE or not request.body:
        return {}
    try:
        text = request.body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ValidationError("body", "must be UTF-8 application/x-www-form-urlencoded") from None
    return dict(pairs)


# --------------------------------------------------------------------------------------------------
# Dispatch (§2)


def identify(request: SignedRequest) -> Credentials:
    """Which scheme signed ``request``, with which key, for which action (§2 dispatch rule).

    ``Authorization: ACS3-…`` → ACS3 (§4.1); else query ``Signature`` → RPC v1 (§4.2); else
    ``SignatureMissing``. Action/version are read from where the scheme signs them: the
    ``x-acs-action``/``x-acs-version`` headers for ACS3, the ``Action``/``Version`` parameters for RPC
    (see ``_action_and_version``). Missing → ``MissingParameter``, malformed → ``ValidationError``.
    """
    authorization = (request.header("authorization") or "").strip()
    if authorization.startswith("ACS3-"):
        return _identify_acs3(request, authorization)
    if "Signature" in request.query:
        return _identify_rpc(request)
    raise SignatureMissing(
        "Request is not signed: neither an 'Authorization: ACS3-HMAC-SHA256 …' header "
        "nor a 'Signature' query parameter is present"
    )


def _action_and_version(request: SignedRequest, *, signed_in_headers: bool) -> tuple[str, str]:
    """Action and Version, taken from where the scheme *signs* them.

    ACS3 signs the ``x-acs-action``/``x-acs-version`` headers; they win (query ``Action``/``Version``
    are only a fallback, and verify then fails on the required signed headers). RPC v1.0 signs only
    the query and form body, *not* headers — yet aliyunsdkcore and Tea v2 also send ``x-acs-action``
    — so for RPC the signed ``Action``/``Version`` parameters win, and a header that disagrees with
    them is rejected: an unsigned header can never redirect a signed request to another action.
    """
    return (
        _signed_common_param(request, "x-acs-action", "Action", signed_in_headers),
        _signed_common_param(request, "x-acs-version", "Version", signed_in_headers),
    )


def _signed_common_param(request: SignedRequest, header: str, param: str, signed_in_headers: bool) -> str:
    in_header = request.header(header)
    in_params = request.query.get(param)
    if in_params is None and not signed_in_headers:
        in_params = form_params(request).get(param)  # RPC may carry it in the (signed) body too
    if signed_in_headers:  # ACS3: the signed header is authoritative (the query is signed too)
        return _required(in_header or in_params, header)
    value = _required(in_params, param)
    if in_header and in_header.strip() != value:  # RPC: the header is not signed
        raise ValidationError(header, f"does not match the signed {param} {value!r}")
    return value


# --------------------------------------------------------------------------------------------------
# ACS3-HMAC-SHA256 (§4.1)


def _parse_authorization(value: str) -> tuple[str, str, tuple[str, ...], str]:
    """``<alg> Credential=<ak>,SignedHeaders=<a;b>,Signature=<hex>`` → (alg, ak, headers, signature)."""
    algorithm, _, rest = value.partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, val = part.strip().partition("=")
        if sep:
            fields[name.strip()] = val.strip()
    if algorithm != ACS3_HMAC_SHA256:
        raise ValidationError("Authorization", f"unsupported signature algorithm {algorithm!r}")
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(name):
            raise ValidationError("Authorization", f"missing {name}=")
    signed = tuple(sorted({h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip()}))
    return algorithm, fields["Credential"], signed, fields["Signature"]


def _identify_acs3(request: SignedRequest, authorization: str) -> Credentials:
    algorithm, access_key_id, signed_headers, signature = _parse_authorization(authorization)
    action, version = _action_and_version(request, signed_in_headers=True)
    return Credentials(
        scheme=algorithm,
        access_key_id=access_key_id,
        action=action,
        version=version,
        nonce=_required(request.header("x-acs-signature-nonce"), "x-acs-signature-nonce"),
        timestamp=_parse_timestamp(request.header("x-acs-date"), "x-acs-date"),
        signature=signature,
        signed_headers=signed_headers,
    )


def canonical_uri(path: str) -> str:
    """§4.1 line 2: the decoded path, RFC 3986-encoded segment by segment (``/`` kept).

    Also what a client should put on the wire as the path, so the server decodes back ``path``.
    """
    return "/".join(percent_encode(segment) for segment in (path or "/").split("/")) or "/"


def _canonical_headers(headers: Mapping[str, str], signed_headers: tuple[str, ...]) -> str:
    """§4.1 line 4: ``name:trimmed-value\\n`` for each signed header, in SignedHeaders order."""
    return "".join(f"{name}:{(headers.get(name) or '').strip()}\n" for name in signed_headers)


def acs3_canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_headers: tuple[str, ...],
    hashed_payload: str,
) -> str:
    """§4.1: the six lines (method, URI, query, headers, signed header list, payload hash).

    ``headers`` must have lower-case names; ``signed_headers`` lower-case and sorted.
    """
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query_string(query),
            _canonical_headers(headers, signed_headers),
            ";".join(signed_headers),
            hashed_payload,
        ]
    )


def acs3_string_to_sign(canonical_request: str) -> str:
    """§4.1: ``ACS3-HMAC-SHA256\\n`` + hex SHA-256 of the canonical request."""
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return f"{ACS3_HMAC_SHA256}\n{digest}"


def _acs3_signature(secret: str, string_to_sign: str) -> str:
    """§4.1: hex HMAC-SHA256, key = the AccessKeySecret as is (no ``&``)."""
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def _require_signed_headers(signed_headers: tuple[str, ...]) -> None:
    """§4.1 step 3."""
    for name in REQUIRED_SIGNED_HEADERS:
        if name not in signed_headers:
            raise MissingParameter(f"SignedHeaders.{name}")


def _verify_acs3(request: SignedRequest, credentials: Credentials, secret: str) -> None:
    _require_signed_headers(credentials.signed_headers)
    declared_hash = (request.header("x-acs-content-sha256") or "").strip()
    string_to_sign = acs3_string_to_sign(
        acs3_canonical_request(
            request.method,
            request.path,
            request.query,
            request.headers,
            credentials.signed_headers,
            declared_hash,
        )
    )
    # §4.1 step 2: the signed hash must be the hash of the body we actually got.
    if not _equal(hashlib.sha256(request.body).hexdigest(), declared_hash.lower()):
        raise SignatureMismatch(string_to_sign)
    # §4.1 step 4.
    if not _equal(_acs3_signature(secret, string_to_sign), credentials.signature.lower()):
        raise SignatureMismatch(string_to_sign)


def sign_acs3(
    method: str,
    host: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes | str | None,
    access_key_id: str,
    secret: str,
    *,
    now: datetime,
    nonce: str,
    action: str | None = None,
    version: str | None = None,
) -> dict[str, str]:
    """Sign a request ACS3-HMAC-SHA256 style; return every header to send (names lower-case, plus
    ``Authorization``). All returned headers except ``Authorization`` are signed.

    ``x-acs-action``/``x-acs-version`` come from ``action``/``version`` or from ``headers``; verify
    requires both. A non-empty body gets ``content-type: application/octet-stream`` unless ``headers``
    names one (pass ``application/json; charset=utf-8`` for JSON). Send the query string as
    ``canonical_query_string(query)`` and the path as ``canonical_uri(path)`` so the server decodes
    back exactly what was signed. Headers the HTTP library adds later (user-agent, content-length)
    are not signed.
    """
    body_bytes = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    out = {k.lower(): str(v) for k, v in headers.items()}
    out.pop("authorization", None)
    if action is not None:
        out["x-acs-action"] = action
    if version is not None:
        out["x-acs-version"] = version
    for name in ("x-acs-action", "x-acs-version"):
        if not out.get(name):
            raise ValueError(f"sign_acs3 needs {name} (pass action=/version= or the header)")
    out["host"] = host
    out["x-acs-date"] = format_timestamp(now)
    out["x-acs-signature-nonce"] = nonce
    out["x-acs-content-sha256"] = hashlib.sha256(body_bytes).hexdigest()
    if body_bytes and "content-type" not in out:
        out["content-type"] = "application/octet-stream"
    signed_headers = tuple(sorted(out))
    string_to_sign = acs3_string_to_sign(
        acs3_canonical_request(method, path, query, out, signed_headers, out["x-acs-content-sha256"])
    )
    out["Authorization"] = (
        f"{ACS3_HMAC_SHA256} Credential={access_key_id},SignedHeaders={';'.join(signed_headers)},"
        f"Signature={_acs3_signature(secret, string_to_sign)}"
    )
    return out


# --------------------------------------------------------------------------------------------------
# RPC HMAC-SHA1, SignatureVersion 1.0 (§4.2)


def _identify_rpc(request: SignedRequest) -> Credentials:
    q = request.query
    method = _required(q.get("SignatureMethod"), "SignatureMethod")
    if method != RPC_HMAC_SHA1:
        raise ValidationError("SignatureMethod", f"unsupported {method!r}, expected {RPC_HMAC_SHA1}")
    sig_version = q.get("SignatureVersion")
    if sig_version not in (None, "1.0"):
        raise ValidationError("SignatureVersion", f"unsupported {sig_version!r}, expected 1.0")
    action, version = _action_and_version(request, signed_in_headers=False)
    return Credentials(
        scheme=RPC_HMAC_SHA1,
        access_key_id=_required(q.get("AccessKeyId"), "AccessKeyId"),
        action=action,
        version=version,
        nonce=_required(q.get("SignatureNonce"), "SignatureNonce"),
        timestamp=_parse_timestamp(q.get("Timestamp"), "Timestamp"),
        signature=_required(q.get("Signature"), "Signature"),
    )


def _rpc_signed_params(request: SignedRequest) -> dict[str, str]:
    """§4.2: every query parameter except ``Signature`` plus every form-body parameter (body wins on a
    clash, as in both SDKs)."""
    params = {k: v for k, v in request.query.items() if k != "Signature"}
    params.update(form_params(request))
    return params


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """§4.2: ``METHOD&%2F&`` + percentEncode(canonical query string). The path is never signed in
    v1.0 (the SDKs hard-code ``%2F``)."""
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query_string(params))}"


def _rpc_signature(secret: str, string_to_sign: str) -> str:
    """§4.2: base64 HMAC-SHA1, key = AccessKeySecret + ``&``."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _verify_rpc(request: SignedRequest, credentials: Credentials, secret: str) -> None:
    string_to_sign = rpc_string_to_sign(request.method, _rpc_signed_params(request))
    if not _equal(_rpc_signature(secret, string_to_sign), credentials.signature):
        raise SignatureMismatch(string_to_sign)


def sign_rpc(
    method: str,
    query: Mapping[str, str],
    body_params: Mapping[str, str],
    access_key_id: str,
    secret: str,
    *,
    now: datetime,
    nonce: str,
    action: str,
    version: str,
) -> dict[str, str]:
    """Sign RPC v1.0 style (mainly for tests); returns the full query to send, ``Signature`` included.

    ``body_params`` are the form-body parameters that will be sent (they are signed, not returned).
    """
    out = dict(query)
    out.update(
        {
            "Action": action,
            "Version": version,
            "Format": "JSON",
            "AccessKeyId": access_key_id,
            "SignatureMethod": RPC_HMAC_SHA1,
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce,
            "Timestamp": format_timestamp(now),
        }
    )
    out.pop("Signature", None)
    string_to_sign = rpc_string_to_sign(method, {**out, **body_params})
    out["Signature"] = _rpc_signature(secret, string_to_sign)
    return out


# --------------------------------------------------------------------------------------------------
# Verification entry point


def verify(
    request: SignedRequest,
    credentials: Credentials,
    secret: str,
    *,
    now: datetime,
    max_skew: timedelta = DEFAULT_MAX_SKEW,
) -> None:
    """Check the signature (§4.1 steps 2–4 / §4.2), then the timestamp window (§4.1 step 5).

    ``credentials`` must be ``identify(request)``; ``secret`` the AccessKeySecret of
    ``credentials.access_key_id`` (looking it up, and raising ``UnknownAccessKey``, is the caller's
    job, as is the nonce check — after this returns). ``now`` must be timezone-aware.
    """
    _aware(now, "now")
    if credentials != identify(request):
        raise ValueError("credentials were not produced by identify() for this request")
    if credentials.scheme == ACS3_HMAC_SHA256:
        _verify_acs3(request, credentials, secret)
        _check_timestamp(credentials.timestamp, now, max_skew, "x-acs-date")
    else:
        _verify_rpc(request, credentials, secret)
        _check_timestamp(credentials.timestamp, now, max_skew, "Timestamp")
