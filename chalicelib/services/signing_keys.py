"""Per-tenant manifest signing keys: created on first use, exported for embedding in apps, replaced
(``services.key_rotation`` rotates: replace, then re-sign everything).

Rotation keeps the retired public key in the list devices may accept, so apps that pinned it keep
working until they update; see docs/delivery.md "Key rotation".
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.domain.access import Permission
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.time_zones import iso
from chalicelib.services import audit
from chalicelib.services.context import Call

if TYPE_CHECKING:
    from chalicelib.store.delivery import StoredSigningKey

_PURPOSE = "manifest-signing"


def _box():
    from chalicelib.security.secretbox import SecretBox
    from chalicelib.store.keyring import master_key

    return SecretBox(master_key())


def _context(tenant: TenantId, key_id: str) -> str:
    return f"{tenant.key}/{key_id}"


def _new_key(tenant: TenantId, *, at: str, previous: list[dict[str, Any]]) -> StoredSigningKey:
    from chalicelib.security import signing
    from chalicelib.store.delivery import StoredSigningKey

    pair = signing.generate()
    sealed = _box().seal(pair.private_raw, purpose=_PURPOSE, context=_context(tenant, pair.key_id))
    return StoredSigningKey(pair.key_id, sealed, pair.public_raw, at, previous)


def _existing(tenant: TenantId) -> StoredSigningKey:
    """The tenant's stored key, which ``current`` has created; missing: InternalError."""
    from chalicelib.domain.errors import MdsError
    from chalicelib.store import delivery as store

    stored = store.get_signing_key(tenant)
    if stored is None:
        raise MdsError(f"internal error: tenant {tenant} has no signing key")
    return stored


def current(tenant: TenantId) -> tuple[str, bytes]:
    """(key ID, private key) to sign with; creates the tenant's first key if it has none."""
    from datetime import UTC, datetime

    from chalicelib.store import delivery as store

    stored = store.get_signing_key(tenant)
    if stored is None:
        store.put_signing_key(
            tenant, _new_key(tenant, at=iso(datetime.now(UTC)), previous=[]), replace_key_id=None
        )
        stored = _existing(tenant)
    return stored.key_id, _private(tenant, stored.key_id, stored.private_sealed)


@lru_cache(maxsize=256)
def _private(tenant: TenantId, key_id: str, sealed: bytes) -> bytes:
    return _box().open(sealed, purpose=_PURPOSE, context=_context(tenant, key_id))


def public_keys(tenant: TenantId) -> dict[str, bytes]:
    """Every key a device should accept for this tenant: the current one and retired ones."""
    import base64

    from chalicelib.store import delivery as store

    stored = store.get_signing_key(tenant)
    if stored is None:
        return {}
    keys = {p["keyId"]: base64.b64decode(p["public"]) for p in stored.previous}
    keys[stored.key_id] = stored.public_raw
    return keys


def export(call: Call, tenant: TenantId) -> dict[str, Any]:
    """The public keys to embed in apps (PEM and raw base64)."""
    from chalicelib.security import signing

    audit.check(call, tenant, Permission.READ, action="signing_key.read")
    current(tenant)
    stored = _existing(tenant)
    keys = [
        {
            "keyId": stored.key_id,
            "status": "current",
            "createdAt": stored.created_at,
            "publicKey": signing.public_b64(stored.public_raw),
            "pem": signing.public_pem(stored.public_raw),
        }
    ]
    for p in stored.previous:
        import base64

        raw = base64.b64decode(p["public"])
        keys.append(
            {
                "keyId": p["keyId"],
                "status": "retired",
                "retiredAt": p["retiredAt"],
                "publicKey": p["public"],
                "pem": signing.public_pem(raw),
            }
        )
    return {"algorithm": "Ed25519", "keys": keys}


def replace(call: Call, tenant: TenantId) -> None:
    """A new signing key; the old public key stays accepted (listed as retired). Re-signing what is
    published is the caller's next step (``services.key_rotation.rotate``)."""
    from chalicelib.domain.errors import Conflict
    from chalicelib.security import signing
    from chalicelib.store import audit_log
    from chalicelib.store import delivery as store

    audit.check(call, tenant, Permission.ADMIN, action="signing_key.rotate")
    current(tenant)
    old = _existing(tenant)
    retired = [
        *old.previous,
        {"keyId": old.key_id, "public": signing.public_b64(old.public_raw), "retiredAt": call.at},
    ]
    new = _new_key(tenant, at=call.at, previous=retired[-5:])
    if not store.put_signing_key(tenant, new, replace_key_id=old.key_id):
        raise Conflict("the signing key was rotated by someone else meanwhile")
    audit_log.append(
        audit.entry(
            call,
            tenant,
            "signing_key.rotate",
            "signing_key",
            new.key_id,
            before={"keyId": old.key_id},
            after={"keyId": new.key_id},
        )
    )
