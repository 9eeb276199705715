"""Switch configuration items in DynamoDB (table ``ConfigItems``).

One partition per tenant holds ``item#<key>`` (the current item, optimistic lock ``version``) and
``hist#<key>#<seq>`` (every version of the item, numbered 1, 2, ...; a deletion is a version with no
data). History rows are written in the same transaction as the change they record and are never
rewritten, so the history of a key survives its deletion and continues if the key is created again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.config import ConfigItem, parse_item
from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.domain.tenancy import TenantId
from chalicelib.store.models import ConfigItemModel
from chalicelib.store.unit_of_work import UnitOfWork

ITEM = "item#"
HISTORY = "hist#"


def _item_key(key: str) -> str:
    return f"{ITEM}{key}"


def _history_key(key: str, seq: int) -> str:
    return f"{HISTORY}{key}#{seq:010d}"


@dataclass(frozen=True)
class StoredItem:
    item: ConfigItem
    seq: int  # the number of its latest version in the history
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    revision: int | None = None  # the optimistic lock; None before the first save
    import_id: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    key: str
    seq: int
    action: str
    at: str
    by: str
    data: dict[str, Any] | None  # the item's export form at that version; None: deleted


def _from_model(m: ConfigItemModel) -> StoredItem:
    return StoredItem(
        item=parse_item(m.data),
        seq=int(m.seq or 0),
        created_at=m.created_at or "",
        created_by=m.created_by or "",
        updated_at=m.updated_at or "",
        updated_by=m.updated_by or "",
        revision=m.version,
        import_id=m.import_id,
    )


def _to_model(tenant: TenantId, s: StoredItem) -> ConfigItemModel:
    model = ConfigItemModel(
        tenant=tenant.key,
        sk=_item_key(s.item.key),
        data=s.item.to_json(),
        seq=s.seq,
        import_id=s.import_id,
        created_at=s.created_at,
        created_by=s.created_by,
        updated_at=s.updated_at,
        updated_by=s.updated_by,
    )
    if s.revision is not None:
        model.version = s.revision
    return model


def _history_model(tenant: TenantId, key: str, seq: int, action: str, at: str, by: str, data: Any) -> Any:
    return ConfigItemModel(
        tenant=tenant.key,
        sk=_history_key(key, seq),
        data=data,
        seq=seq,
        action=action,
        created_at=at,
        created_by=by,
    )


def _record(uow: UnitOfWork, tenant: TenantId, s: StoredItem, action: str, data: Any) -> None:
    uow.save(
        _history_model(tenant, s.item.key, s.seq, action, s.updated_at, s.updated_by, data),
        condition=ConfigItemModel.sk.does_not_exist(),
        on_conflict=Conflict(f"key {s.item.key} was changed by someone else; reload and try again"),
    )


def add(uow: UnitOfWork, tenant: TenantId, stored: StoredItem, *, action: str = "create") -> None:
    """A new key: refused (Conflict naming the key) if it exists. ``stored.seq`` must be the key's
    next history number (``last_seq + 1``)."""
    uow.save(
        _to_model(tenant, stored),
        condition=ConfigItemModel.sk.does_not_exist(),
        on_conflict=Conflict(f"key {stored.item.key} already exists", field="key"),
    )
    _record(uow, tenant, stored, action, stored.item.to_json())


def update(uow: UnitOfWork, tenant: TenantId, before: StoredItem, after: StoredItem, *, action: str) -> None:
    """Optimistic: commits only if nobody changed the item since ``before`` was read; ``after.seq``
    is ``before.seq + 1`` and that version lands in the history in the same transaction."""
    from dataclasses import replace

    uow.save(_to_model(tenant, replace(after, revision=before.revision)))
    _record(uow, tenant, after, action, after.item.to_json())


def remove(uow: UnitOfWork, tenant: TenantId, stored: StoredItem, *, at: str, by: str) -> None:
    from dataclasses import replace

    uow.delete(_to_model(tenant, stored))
    _record(uow, tenant, replace(stored, seq=stored.seq + 1, updated_at=at, updated_by=by), "delete", None)


def get(tenant: TenantId, key: str) -> StoredItem:
    try:
        return _from_model(ConfigItemModel.get(tenant.key, _item_key(key), consistent_read=True))
    except ConfigItemModel.DoesNotExist:
        raise NotFound(f"config key {key} not found") from None


def list_items(tenant: TenantId) -> list[StoredItem]:
    """Every item of the tenant, in key order."""
    return [
        _from_model(m)
        for m in ConfigItemModel.query(tenant.key, ConfigItemModel.sk.startswith(ITEM), consistent_read=True)
    ]


def keys(tenant: TenantId) -> set[str]:
    return {
        m.sk[len(ITEM) :]
        for m in ConfigItemModel.query(
            tenant.key,
            ConfigItemModel.sk.startswith(ITEM),
            consistent_read=True,
            attributes_to_get=["sk"],
        )
    }


def history(tenant: TenantId, key: str) -> list[HistoryEntry]:
    """Every version of ``key``, oldest first."""
    return [
        HistoryEntry(
            key=key,
            seq=int(m.seq),
            action=m.action or "",
            at=m.created_at or "",
            by=m.created_by or "",
            data=m.data,
        )
        for m in ConfigItemModel.query(
            tenant.key, ConfigItemModel.sk.startswith(f"{HISTORY}{key}#"), consistent_read=True
        )
    ]


def last_seq(tenant: TenantId, key: str) -> int:
    """The latest history number of ``key`` (0 if it never existed)."""
    for m in ConfigItemModel.query(
        tenant.key,
        ConfigItemModel.sk.startswith(f"{HISTORY}{key}#"),
        consistent_read=True,
        scan_index_forward=False,
        limit=1,
    ):
        return int(m.seq)
    return 0


def last_seqs(tenant: TenantId) -> dict[str, int]:
    """The latest history number of every key that has a history (one query over the tenant's
    history keys, for imports)."""
    seqs: dict[str, int] = {}
    for m in ConfigItemModel.query(
        tenant.key,
        ConfigItemModel.sk.startswith(HISTORY),
        consistent_read=True,
        attributes_to_get=["sk"],
    ):
        key, _, seq = m.sk[len(HISTORY) :].rpartition("#")
        seqs[key] = max(seqs.get(key, 0), int(seq))
    return seqs


def undo_import(tenant: TenantId, written: list[StoredItem], import_id: str) -> None:
    """The compensation of a failed import: delete what it wrote (items still as the import left
    them, and their history rows), in transactions of at most 100 writes."""
    for start in range(0, len(written), 45):
        uow = UnitOfWork()
        for stored in written[start : start + 45]:
            uow.delete(
                ConfigItemModel(tenant=tenant.key, sk=_item_key(stored.item.key)),
                condition=ConfigItemModel.import_id == import_id,
                versioned=False,
            )
            uow.delete(
                ConfigItemModel(tenant=tenant.key, sk=_history_key(stored.item.key, stored.seq)),
                versioned=False,
            )
        uow.commit()
