"""The RSA keys of hotpatches: the tenant's MDS patch key (generated on first use, private half sealed,
never returned) and the developer's registered public key (for developer-signed patches).

Devices pin the public keys (``GET .../hotpatch/keys``) and verify each patch file with the key its
manifest entry names (``keyId``) before applying it. See docs/hotpatch.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import present
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.time_zones import iso
from chalicelib.services import audit
from chalicelib.services.context import Call

_PURPOSE = "hotpatch-signing"
MDS, DEVELOPER = "mds", "developer"


def _box():
    from chalicelib.security.secretbox import SecretBox
    from chalicelib.store.keyring import master_key

    return SecretBox(master_key())


def mds_key(tenant: TenantId) -> tuple[str, Any]:
    """(key ID, RSA private key) of the tenant's patch key; created (2048-bit) on first use."""
    import base64

    from chalicelib.security import rsa_keys
    from chalicelib.store import hotpatch as store

    found = store.get_key(tenant, MDS)
    if found is None:
        private = rsa_keys.generate_private_key()
        kid = rsa_keys.key_id(private)
        sealed = _box().seal(
            rsa_keys.private_key_bytes(private), purpose=_PURPOSE, context=f"{tenant.key}/{kid}"
        )
        store.create_key_if_absent(  # two first uses at once: only one key wins, both use it
            tenant,
            MDS,
            {
                "keyId": kid,
                "publicKey": rsa_keys.public_key_pem(private),
                "sealed": base64.b64encode(sealed).decode("ascii"),
                "createdAt": iso(datetime.now(UTC)),
            },
        )
        found = store.get_key(tenant, MDS)
    data = present(found, "the MDS hotpatch key just stored")[0]
    return data["keyId"], _private(tenant.key, data["keyId"], data["sealed"])


@lru_cache(maxsize=64)
def _private(tenant_key: str, key_id: str, sealed_b64: str) -> Any:
    import base64

    from chalicelib.security import rsa_keys

    der = _box().open(base64.b64decode(sealed_b64), purpose=_PURPOSE, context=f"{tenant_key}/{key_id}")
    return rsa_keys.private_key_from_der(der)


def developer_key(tenant: TenantId) -> dict[str, Any] | None:
    """``{"keyId", "publicKey" (PEM), ...}`` of the registered developer key, or None."""
    from chalicelib.store import hotpatch as store

    found = store.get_key(tenant, DEVELOPER)
    return found[0] if found else None


def export(call: Call, tenant: TenantId) -> dict[str, Any]:
    """The public keys apps pin: the MDS patch key (always) and the developer's key (if registered)."""
    from chalicelib.security.rsa_keys import ALGORITHM
    from chalicelib.store import hotpatch as store

    audit.check(call, tenant, Permission.READ, action="hotpatch.key.read")
    mds_key(tenant)
    result: dict[str, Any] = {"algorithm": ALGORITHM}
    for which in (MDS, DEVELOPER):
        found = store.get_key(tenant, which)
        result[which] = (
            None
            if found is None
            else {
                "keyId": found[0]["keyId"],
                "publicKey": found[0]["publicKey"],
                "createdAt": found[0].get("createdAt"),
                **({"registeredBy": found[0]["registeredBy"]} if "registeredBy" in found[0] else {}),
            }
        )
    return result


def register_developer_key(call: Call, tenant: TenantId, public_key_pem: str) -> dict[str, Any]:
    """Register (or replace) the developer's RSA public key (PEM, >= 2048 bits).

    Raises:
        ValidationError: ``publicKey`` is not an RSA public key of 2048 bits or more (a private key too).
    """
    from chalicelib.security import rsa_keys
    from chalicelib.store import hotpatch as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.ADMIN, action="hotpatch.key.register")
    key = rsa_keys.load_public_key(public_key_pem, field="publicKey")
    pem = rsa_keys.public_key_pem(key)
    kid = rsa_keys.key_id(key)
    before = store.get_key(tenant, DEVELOPER)
    data = {"keyId": kid, "publicKey": pem, "createdAt": call.at, "registeredBy": call.actor}
    uow = UnitOfWork()
    store.put_key(uow, tenant, DEVELOPER, data, lock=before[1] if before else None)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "hotpatch.key.register",
            "hotpatch_key",
            DEVELOPER,
            before={"keyId": before[0]["keyId"]} if before else None,
            after={"keyId": kid},
        )
    )
    uow.commit()
    return {"keyId": kid, "publicKey": pem, "createdAt": call.at, "registeredBy": call.actor}
