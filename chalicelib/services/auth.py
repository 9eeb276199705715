"""Who is calling: console logins (password → token) and AccessKey-signed requests.

Failed logins are counted per user and per source IP over a sliding 15 minutes
(``services.rate_limits``); past the limit the login is refused before the password is even checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.config import settings
from chalicelib.domain.access import Principal, PrincipalKind
from chalicelib.domain.audit import Outcome
from chalicelib.domain.errors import (
    AccessKeyInactive,
    AuthenticationError,
    NonceUsed,
    SignatureMismatch,
    UnknownAccessKey,
)
from chalicelib.domain.rate_limits import RateLimit
from chalicelib.security import passwords, tokens
from chalicelib.security.acs_signature import SignedRequest, identify, verify
from chalicelib.services import rate_limits
from chalicelib.services.context import Call

_TRY_LATER = "too many failed logins; try again later"
FAILED_LOGINS_PER_USER = RateLimit("login-fail#user", 5, 15 * 60, _TRY_LATER)
FAILED_LOGINS_PER_IP = RateLimit("login-fail#ip", 30, 15 * 60, _TRY_LATER)
NONCE_TTL = timedelta(minutes=30)  # > twice the ±15 min timestamp window


@dataclass(frozen=True)
class Session:
    token: str
    username: str
    expires_at: datetime


def _box():
    from chalicelib.security.secretbox import SecretBox
    from chalicelib.store.keyring import master_key

    return SecretBox(master_key())


def _failure_limits(username: str, source_ip: str | None) -> list[tuple[RateLimit, str]]:
    limits = [(FAILED_LOGINS_PER_USER, username)]
    if source_ip:
        limits.append((FAILED_LOGINS_PER_IP, source_ip))
    return limits


def login(username: str, password: str, *, source_ip: str | None, now: datetime | None = None) -> Session:
    """Raises RateLimited after too many failures, AuthenticationError for a wrong name or password."""
    from chalicelib.store import directory

    now = now or datetime.now(UTC)
    limits = _failure_limits(username, source_ip)
    for limit, subject in limits:
        rate_limits.refuse_if_full(limit, subject, now=now.timestamp())

    user = directory.get_user(username)
    if user is None:
        passwords.burn_time(password)
        ok = False
    else:
        ok = passwords.verify_password(password, user.password_hash)
    if not ok:
        for limit, subject in limits:
            rate_limits.record(limit, subject, now=now.timestamp())
        raise AuthenticationError("invalid username or password")

    token, claims = tokens.issue(
        username,
        key=_box().derive("console-token"),
        now=int(now.timestamp()),
        ttl_seconds=settings().token_ttl_seconds,
    )
    return Session(token=token, username=username, expires_at=datetime.fromtimestamp(claims.expires_at, UTC))


def principal_from_token(token: str, *, now: datetime | None = None) -> Principal:
    from chalicelib.store import directory

    now = now or datetime.now(UTC)
    claims = tokens.verify(token, key=_box().derive("console-token"), now=int(now.timestamp()))
    user = directory.get_user(claims.subject)
    if user is None:
        raise tokens.InvalidToken("the user of this token no longer exists")
    roles = {m.tenant: m.role for m in directory.memberships_of_user(user.username)}
    return Principal(kind=PrincipalKind.USER, id=user.username, roles=roles, is_superuser=user.is_superuser)


def principal_from_signature(
    request: SignedRequest, *, request_id: str, source_ip: str | None, now: datetime | None = None
) -> Principal:
    """Verify an AccessKey-signed request (ACS3-HMAC-SHA256 or RPC HMAC-SHA1, as the mPaaS SDKs sign).

    The nonce is recorded only after the signature checks out, so forged requests cannot burn
    nonces; a failed signature on a real key is written to that key's tenant audit log.
    """
    from chalicelib.store import access_keys, ephemeral

    now = now or datetime.now(UTC)
    credentials = identify(request)
    stored = access_keys.get(credentials.access_key_id)
    if stored is None:
        raise UnknownAccessKey(f"access key {credentials.access_key_id} does not exist")
    key = stored.key
    if not key.active:
        raise AccessKeyInactive(f"access key {key.id} has been revoked")
    secret = _box().open(
        stored.secret_sealed, purpose="access-key-secret", context=_secret_context(key.id, key.tenant.key)
    )
    try:
        verify(request, credentials, secret.decode("utf-8"), now=now)
    except SignatureMismatch as exc:
        _audit_refused(key, request_id, source_ip, now, "signature does not match")
        raise exc
    if not ephemeral.claim_once(f"nonce#{key.id}#{credentials.nonce}", now=now, ttl=NONCE_TTL):
        _audit_refused(key, request_id, source_ip, now, "replayed nonce")
        raise NonceUsed(f"nonce {credentials.nonce} has already been used")
    return Principal(kind=PrincipalKind.ACCESS_KEY, id=key.id, roles={key.tenant: key.role})


def _secret_context(access_key_id: str, tenant_key: str) -> str:
    return f"{tenant_key}/{access_key_id}"


def _audit_refused(key, request_id: str, source_ip: str | None, now: datetime, why: str) -> None:
    from chalicelib.services import audit
    from chalicelib.store import audit_log

    call = Call(
        principal=Principal(kind=PrincipalKind.ACCESS_KEY, id=key.id),
        request_id=request_id,
        source_ip=source_ip,
        now=now,
    )
    audit_log.append(
        audit.entry(
            call, key.tenant, "auth.signature", "access_key", key.id, outcome=Outcome.DENIED, detail=why
        )
    )


def seal_secret(access_key_id: str, tenant_key: str, secret: str) -> bytes:
    return _box().seal(
        secret.encode(), purpose="access-key-secret", context=_secret_context(access_key_id, tenant_key)
    )
