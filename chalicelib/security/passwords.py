"""Password hashing with scrypt (memory-hard, in the stdlib: nothing to add to the Lambda package).

Stored form: ``scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>``, so parameters can be raised later
and old hashes still verify. The cost of new hashes is ``Settings.password_log2_n`` (default 15).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from chalicelib.config import settings

# n=2**15, r=8 → 32 MiB per hash: costly for an attacker's GPU, ~60 ms for us.
_R, _P = 8, 1
_DKLEN = 32
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    salt, log2_n = secrets.token_bytes(16), settings().password_log2_n
    digest = _scrypt(password, salt, log2_n, _R, _P)
    return "$".join(["scrypt", str(log2_n), str(_R), str(_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log2_n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def burn_time(password: str) -> None:
    """Spend the same work as a real check, so unknown users can't be told apart by timing."""
    _scrypt(password, b"\0" * 16, settings().password_log2_n, _R, _P)


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=2**log2_n, r=r, p=p, maxmem=_MAXMEM, dklen=_DKLEN
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
