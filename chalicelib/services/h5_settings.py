"""H5 configuration of a workspace: the virtual host domain (set once) and the RSA signing key.

The private key is validated (PEM, RSA, 2048 bits or more), sealed with the master key
(``security/secretbox``, purpose ``h5-rsa-key``, context = tenant + key ID) and never returned; only
its ID and public half are shown. A key may be replaced: packages already built keep the key ID they
were signed with in their ``h5.json``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.h5 import check_vhost
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit, uploads
from chalicelib.services.context import Call

_PURPOSE = "h5-rsa-key"


def _box():
    from chalicelib.security.secretbox import SecretBox
    from chalicelib.store.keyring import master_key

    return SecretBox(master_key())


def set_vhost(call: Call, tenant: TenantId, vhost: str) -> str:
    """Set the vhost once; the same value again is accepted, a different one is refused (409).

    Raises:
        ValidationError: ``vhost`` is not a domain name. Conflict: another vhost is already set.
    """
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="h5.vhost.set")
    value = check_vhost(vhost)
    before = store.get_settings(tenant)
    if before.vhost == value:
        return value
    if before.vhost:
        raise Conflict(f"the vhost is already {before.vhost}; it cannot be changed", field="vhost")
    uow = UnitOfWork()
    store.save_settings(uow, tenant, before, replace(before, vhost=value, updated_at=call.at))
    uow.audit(audit.entry(call, tenant, "h5.vhost.set", "h5_settings", "vhost", after={"vhost": value}))
    uow.commit()
    return value


def get_vhost(call: Call, tenant: TenantId) -> str | None:
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.settings.read")
    return store.get_settings(tenant).vhost


def upload_rsa_key(call: Call, tenant: TenantId, pem: bytes) -> dict[str, Any]:
    """Store the workspace's package signing key. Returns ``{"keyId", "publicKey"}``.

    Raises:
        ValidationError: ``file``: not a PEM RSA private key, encrypted, or under 2048 bits.
    """
    audit.check(call, tenant, Permission.RELEASE, action="h5.rsa_key.upload")
    return _store_key(call, tenant, pem)


def _store_key(call: Call, tenant: TenantId, pem: bytes) -> dict[str, Any]:
    """Validate, seal and store (the caller has checked the permission)."""
    from chalicelib.security import rsa_keys
    from chalicelib.store import h5_records as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    key = rsa_keys.load_private_key(pem, field="file")
    key_id = rsa_keys.key_id(key)
    public = rsa_keys.public_key_pem(key)
    sealed = _box().seal(rsa_keys.private_key_bytes(key), purpose=_PURPOSE, context=f"{tenant.key}/{key_id}")

    def attempt() -> None:
        before = store.get_settings(tenant)
        after = replace(
            before, rsa_sealed=sealed, rsa_key_id=key_id, rsa_public_pem=public, updated_at=call.at
        )
        uow = UnitOfWork()
        store.save_settings(uow, tenant, before, after)
        uow.audit(
            audit.entry(
                call,
                tenant,
                "h5.rsa_key.upload",
                "h5_settings",
                "rsaKey",
                before={"keyId": before.rsa_key_id},
                after={"keyId": key_id},
            )
        )
        uow.commit()

    retry_on_conflict(attempt)
    return {"keyId": key_id, "publicKey": public}


def rsa_key_exists(call: Call, tenant: TenantId) -> bool:
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.settings.read")
    return store.get_settings(tenant).rsa_sealed is not None


def public_key(call: Call, tenant: TenantId) -> str:
    """The public half of the signing key (PEM). Raises NotFound when no key was uploaded."""
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.settings.read")
    settings = store.get_settings(tenant)
    if not settings.rsa_public_pem:
        raise NotFound("no H5 RSA key has been uploaded for this workspace")
    return settings.rsa_public_pem


def view(call: Call, tenant: TenantId) -> dict[str, Any]:
    from chalicelib.store import h5_records as store

    audit.check(call, tenant, Permission.READ, action="h5.settings.read")
    s = store.get_settings(tenant)
    return {
        "vhost": s.vhost,
        "rsaKeyExists": s.rsa_sealed is not None,
        "keyId": s.rsa_key_id,
        "publicKey": s.rsa_public_pem,
        "updatedAt": s.updated_at,
    }


def signing_key(tenant: TenantId) -> tuple[str, Any]:
    """(key ID, RSA private key) to sign packages with, for the processing pipeline.

    Raises:
        Conflict: no key uploaded yet (``field: rsaKey``).
    """
    from chalicelib.store import h5_records as store

    s = store.get_settings(tenant)
    if s.rsa_sealed is None or not s.rsa_key_id:
        raise Conflict("upload the H5 RSA signing key first (settings)", field="rsaKey")
    return s.rsa_key_id, _private(tenant.key, s.rsa_key_id, s.rsa_sealed)


@lru_cache(maxsize=64)
def _private(tenant_key: str, key_id: str, sealed: bytes) -> Any:
    from chalicelib.security import rsa_keys

    der = _box().open(sealed, purpose=_PURPOSE, context=f"{tenant_key}/{key_id}")
    return rsa_keys.private_key_from_der(der)


@uploads.processor("rsa-key")
def process_key_file(record: Any) -> dict[str, Any]:
    """An uploaded PEM (purpose ``rsa-key``) becomes the workspace's signing key."""
    from chalicelib.store import h5_files

    local, _size = h5_files.spool_object(record.object_key, etag=record.etag, max_bytes=record.max_bytes)
    with local:
        pem = local.read()
    # Permission was checked when the upload was requested (release manager); the event has no session.
    return _store_key(uploads.call_for(record), record.tenant, pem)
