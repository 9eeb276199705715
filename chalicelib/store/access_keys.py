"""AccessKey records. The secret is stored sealed (AES-GCM, bound to the key ID and tenant)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.access import Role
from chalicelib.domain.access_keys import AccessKey, KeyStatus
from chalicelib.domain.errors import Conflict
from chalicelib.domain.tenancy import TenantId
from chalicelib.store.models import AccessKeyModel
from chalicelib.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class StoredKey:
    key: AccessKey
    secret_sealed: bytes


def _from_model(m: AccessKeyModel) -> StoredKey:
    return StoredKey(
        key=AccessKey(
            id=m.access_key_id,
            tenant=TenantId.from_key(m.tenant),
            role=Role(m.role),
            description=m.description or "",
            status=KeyStatus(m.status),
            created_at=m.created_at,
            created_by=m.created_by,
            revoked_at=m.revoked_at,
            version=m.version,
        ),
        secret_sealed=bytes(m.secret_sealed),
    )


def _to_model(key: AccessKey, secret_sealed: bytes) -> AccessKeyModel:
    model = AccessKeyModel(
        access_key_id=key.id,
        tenant=key.tenant.key,
        role=key.role.value,
        description=key.description,
        secret_sealed=secret_sealed,
        status=key.status.value,
        created_at=key.created_at,
        created_by=key.created_by,
        revoked_at=key.revoked_at,
    )
    if key.version is not None:  # None: not stored yet
        model.version = key.version
    return model


def add(uow: UnitOfWork, key: AccessKey, secret_sealed: bytes) -> None:
    uow.save(
        _to_model(key, secret_sealed),
        condition=AccessKeyModel.access_key_id.does_not_exist(),
        on_conflict=Conflict("access key id collision; try again"),
    )


def get(access_key_id: str) -> StoredKey | None:
    try:
        return _from_model(AccessKeyModel.get(access_key_id, consistent_read=True))
    except AccessKeyModel.DoesNotExist:
        return None


def save_status(uow: UnitOfWork, stored: StoredKey, updated: AccessKey) -> None:
    model = _to_model(stored.key, stored.secret_sealed)
    uow.update(
        model,
        [
            AccessKeyModel.status.set(updated.status.value),
            # pynamodb's set() writes None as NULL, but its types leave None out
            AccessKeyModel.revoked_at.set(updated.revoked_at),  # type: ignore[arg-type]
        ],
    )


def list_for_tenant(tenant: TenantId) -> list[AccessKey]:
    return [_from_model(m).key for m in AccessKeyModel.by_tenant.query(tenant.key)]
