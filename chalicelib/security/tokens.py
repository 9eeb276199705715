"""Console session tokens: short-lived, HMAC-SHA256 signed, stateless.

Format: ``mds1.<base64url(json claims)>.<base64url(hmac)>``. Claims: ``sub`` (username),
``iat``/``exp`` (epoch seconds). The key is derived from the deployment's master key, so every
Lambda container verifies tokens without a lookup.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from chalicelib.domain.errors import AuthenticationError

_PREFIX = "mds1"


class InvalidToken(AuthenticationError):
    CODE = "InvalidToken"


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    issued_at: int
    expires_at: int


def issue(subject: str, *, key: bytes, now: int, ttl_seconds: int) -> tuple[str, TokenClaims]:
    claims = TokenClaims(subject=subject, issued_at=now, expires_at=now + ttl_seconds)
    payload = _b64(
        json.dumps(
            {"sub": claims.subject, "iat": claims.issued_at, "exp": claims.expires_at},
            separators=(",", ":"),
        ).encode()
    )
    signing_input = f"{_PREFIX}.{payload}"
    return f"{signing_input}.{_b64(_mac(key, signing_input))}", claims


def verify(token: str, *, key: bytes, now: int) -> TokenClaims:
    """Raises InvalidToken for anything malformed, forged or expired."""
    try:
        prefix, payload, signature = token.split(".")
    except ValueError:
        raise InvalidToken("malformed token") from None
    if prefix != _PREFIX:
        raise InvalidToken("malformed token")
    expected = _mac(key, f"{prefix}.{payload}")
    try:
        given = _unb64(signature)
    except ValueError:
        raise InvalidToken("malformed token") from None
    if not hmac.compare_digest(expected, given):
        raise InvalidToken("token signature is invalid")
    try:
        data = json.loads(_unb64(payload))
        claims = TokenClaims(
            subject=str(data["sub"]), issued_at=int(data["iat"]), expires_at=int(data["exp"])
        )
    except (ValueError, KeyError, TypeError):
        raise InvalidToken("malformed token") from None
    if now >= claims.expires_at:
        raise InvalidToken("token has expired; log in again")
    return claims


def _mac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None
