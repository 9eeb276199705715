"""Switch configuration use cases: add, list/search, show, modify, enable/disable, delete, import,
export, history and rollback (docs/config.md).

Every change is committed with its history version and its audit entry in one transaction, then
re-published to devices: both platforms' manifests, always, so every device finds a (possibly empty)
config manifest on the CDN and never needs the API; an unchanged platform's publication writes nothing.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.config import (
    ConfigItem,
    diff,
    export_document,
    parse_import,
    parse_item,
)
from chalicelib.domain.errors import MdsError, NotFound, ValidationError, VersionConflict
from chalicelib.domain.paging import check_page, page_of
from chalicelib.domain.targeting import Platform
from chalicelib.domain.tenancy import TenantId
from chalicelib.services import audit, publishing, uploads
from chalicelib.services.context import Call

PRODUCT = "config"
ENTITY = "config_item"
IMPORT_PURPOSE = "config-import"
_ITEMS_PER_COMMIT = 45  # each item is 2 writes (item + history row), plus one audit entry: <= 100
_BYTES_PER_COMMIT = 1_500_000
MAX_PAGE_SIZE = 500


# --- views -----------------------------------------------------------------------------------------


def view(stored: Any) -> dict[str, Any]:
    return {
        **stored.item.to_json(),
        "version": stored.seq,
        "revision": stored.revision,
        "createdAt": stored.created_at,
        "createdBy": stored.created_by,
        "updatedAt": stored.updated_at,
        "updatedBy": stored.updated_by,
        "importId": stored.import_id,
    }


def _check_whitelists(
    tenant: TenantId, items: list[tuple[str, ConfigItem]], known: set[str] | None = None
) -> None:
    """Every whitelist a targeted value names must exist in the workspace."""
    from chalicelib.services import whitelists

    if not any(t.target.whitelist_ids for _, item in items for t in item.targeted):
        return
    if known is None:
        from chalicelib.store import whitelists as whitelist_store

        known = {w.id for w in whitelist_store.list_for_tenant(tenant)}
    for path, item in items:
        for i, targeted in enumerate(item.targeted):
            field = f"{path}targetedValues[{i}].whitelistIds"
            whitelists.check_exist(tenant, targeted.target.whitelist_ids, field=field, known=known)


def using_whitelist(tenant: TenantId, whitelist_id: str) -> list[str]:
    """Config items with a targeted value on ``whitelist_id`` (a whitelist in use cannot be deleted)."""
    from chalicelib.store import config_items as store

    return [
        f"config item {s.item.key} (targetedValues[{i}])"
        for s in store.list_items(tenant)
        for i, targeted in enumerate(s.item.targeted)
        if whitelist_id in targeted.target.whitelist_ids
    ]


# --- reads -----------------------------------------------------------------------------------------


def list_items(
    call: Call,
    tenant: TenantId,
    *,
    keyword: str | None = None,
    platform: str | None = None,
    page: int = 1,
    page_size: int = 20,
) -> dict[str, Any]:
    """A page of items in key order; ``keyword`` searches key, note and values (case-insensitive)."""
    from chalicelib.store import config_items as store

    audit.check(call, tenant, Permission.READ, action="config.list")
    check_page(page, page_size, max_page_size=MAX_PAGE_SIZE)
    wanted = Platform.parse(platform) if platform else None
    found = [
        s
        for s in store.list_items(tenant)
        if (not keyword or s.item.matches_keyword(keyword))
        and (wanted is None or wanted is Platform.ALL or s.item.for_platform(wanted))
    ]
    return page_of(found, view, page=page, page_size=page_size)


def get(call: Call, tenant: TenantId, key: str) -> dict[str, Any]:
    from chalicelib.store import config_items as store

    audit.check(call, tenant, Permission.READ, action="config.read")
    return view(store.get(tenant, key))


def export(call: Call, tenant: TenantId) -> dict[str, Any]:
    """Every item as ``{"schema": 1, "items": [...]}`` (key order), which ``import_items`` takes back."""
    from chalicelib.store import config_items as store

    audit.check(call, tenant, Permission.READ, action="config.export")
    return export_document([s.item for s in store.list_items(tenant)])


def history(call: Call, tenant: TenantId, key: str) -> dict[str, Any]:
    """Every version of ``key``, newest first, each with its changes from the version before."""
    from chalicelib.store import config_items as store

    audit.check(call, tenant, Permission.READ, action="config.history")
    entries = store.history(tenant, key)
    if not entries:
        raise NotFound(f"config key {key} not found")
    versions = []
    previous = None
    for e in entries:
        versions.append(
            {
                "version": e.seq,
                "action": e.action,
                "at": e.at,
                "by": e.by,
                "item": e.data,
                "changes": diff(previous, e.data),
            }
        )
        previous = e.data
    return {"key": key, "versions": list(reversed(versions))}


# --- changes ---------------------------------------------------------------------------------------


def create(call: Call, tenant: TenantId, data: dict[str, Any]) -> dict[str, Any]:
    """Add an item (active unless ``active: false``).

    Raises:
        ValidationError: naming the field; Conflict: the key exists.
    """
    from chalicelib.store import config_items as store
    from chalicelib.store.config_items import StoredItem
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="config.create")
    item = parse_item(data)
    _check_whitelists(tenant, [("", item)])
    stored = StoredItem(
        item=item,
        seq=store.last_seq(tenant, item.key) + 1,
        created_at=call.at,
        created_by=call.actor,
        updated_at=call.at,
        updated_by=call.actor,
    )
    uow = UnitOfWork()
    store.add(uow, tenant, stored)
    uow.audit(audit.entry(call, tenant, "config.create", ENTITY, item.key, after=item.to_json()))
    uow.commit()
    publishing.changed(tenant, PRODUCT)
    return view(replace(stored, revision=1))


def _change(
    call: Call,
    tenant: TenantId,
    key: str,
    make: Any,
    *,
    action: str,
    expected_revision: int | None,
) -> dict[str, Any]:
    """Read the item, build the new content with ``make(before_item)``, commit it as the next version."""
    from chalicelib.store import config_items as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action=action)
    before = store.get(tenant, key)
    if expected_revision is not None and expected_revision != before.revision:
        raise VersionConflict(f"config key {key} is at revision {before.revision}, not {expected_revision}")
    item = make(before.item)
    if item == before.item:
        return view(before)  # nothing to change: no new version, nothing to publish
    _check_whitelists(tenant, [("", item)])
    after = replace(before, item=item, seq=before.seq + 1, updated_at=call.at, updated_by=call.actor)
    uow = UnitOfWork()
    store.update(uow, tenant, before, after, action=action.removeprefix("config."))
    uow.audit(
        audit.entry(call, tenant, action, ENTITY, key, before=before.item.to_json(), after=item.to_json())
    )
    uow.commit()
    publishing.changed(tenant, PRODUCT)
    return view(replace(after, revision=(before.revision or 0) + 1))


def update(
    call: Call,
    tenant: TenantId,
    key: str,
    changes: dict[str, Any],
    *,
    expected_revision: int | None = None,
) -> dict[str, Any]:
    """Modify anything but the key: ``type``, ``platform``, ``note``, ``value`` (``null`` removes the
    default), ``targetedValues``, ``active``. Fields not given keep their value.

    Raises:
        ValidationError: naming the field (``key`` if it would change); VersionConflict: stale revision.
    """
    if "key" in changes and changes["key"] != key:
        raise ValidationError("key", "cannot be changed; delete the item and add a new key")

    def make(item: ConfigItem) -> ConfigItem:
        data = item.to_json()
        data.update({k: v for k, v in changes.items() if k != "key"})
        if data.get("value") is None:
            data.pop("value", None)
        return parse_item(data)

    return _change(call, tenant, key, make, action="config.update", expected_revision=expected_revision)


def set_active(
    call: Call, tenant: TenantId, key: str, active: bool, *, expected_revision: int | None = None
) -> dict[str, Any]:
    return _change(
        call,
        tenant,
        key,
        lambda item: replace(item, active=active),
        action="config.enable" if active else "config.disable",
        expected_revision=expected_revision,
    )


def rollback(
    call: Call,
    tenant: TenantId,
    key: str,
    *,
    to_version: int | None = None,
    expected_revision: int | None = None,
) -> dict[str, Any]:
    """Restore the content of version ``to_version`` (default: the one before the current) as a new
    version, in one audited action, and publish it.

    Raises:
        ValidationError(version): no such version, or it is a deletion.
    """
    from chalicelib.store import config_items as store

    entries = {e.seq: e for e in store.history(tenant, key)}

    def make(item: ConfigItem) -> ConfigItem:
        current = max(entries)
        wanted = to_version if to_version is not None else current - 1
        entry = entries.get(wanted)
        if entry is None or wanted == current:
            known = ", ".join(str(n) for n in sorted(entries) if n != current and entries[n].data)
            raise ValidationError(
                "version", f"must be an earlier version of {key} (one of: {known or 'none'})"
            )
        if entry.data is None:
            raise ValidationError("version", f"version {wanted} is the deletion of {key}; pick another")
        return parse_item(entry.data)

    return _change(call, tenant, key, make, action="config.rollback", expected_revision=expected_revision)


def delete(call: Call, tenant: TenantId, key: str) -> None:
    """Delete the item; its history stays (and continues if the key is added again)."""
    from chalicelib.store import config_items as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="config.delete")
    stored = store.get(tenant, key)
    uow = UnitOfWork()
    store.remove(uow, tenant, stored, at=call.at, by=call.actor)
    uow.audit(audit.entry(call, tenant, "config.delete", ENTITY, key, before=stored.item.to_json()))
    uow.commit()
    publishing.changed(tenant, PRODUCT)


# --- import ----------------------------------------------------------------------------------------


def import_text(
    call: Call, tenant: TenantId, raw: bytes | str, *, skip_invalid: bool = False
) -> dict[str, Any]:
    """Import a JSON file's bytes (see ``import_items``).

    Raises:
        ValidationError(file): not UTF-8 JSON.
    """
    audit.check(call, tenant, Permission.RELEASE, action="config.import")
    return _import(call, tenant, _json_document(raw), skip_invalid=skip_invalid)


def _json_document(raw: bytes | str) -> object:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("file", f"must be a JSON document ({exc})") from None


def import_items(
    call: Call, tenant: TenantId, document: object, *, skip_invalid: bool = False
) -> dict[str, Any]:
    """Import items: keys that exist are skipped and listed; the rest are imported all or nothing.

    Every item is validated before anything is written. An invalid item (or a key that appears twice
    in the file) stops the import with a ValidationError naming ``items[<index>].<field>`` — unless
    ``skip_invalid``, when invalid items are reported (index, field, rule) and the valid rest is
    imported. Writing takes several transactions (DynamoDB's limit is 100 writes each); if one fails,
    the ones already committed are deleted again (a compensating delete) and the error is raised, so
    an import lands whole or not at all. Devices see it once, after the last commit.

    Returns:
        ``{"importId", "imported": [keys], "skipped": [keys], "invalid": [{"index", "field", "rule"}]}``.
    """
    audit.check(call, tenant, Permission.RELEASE, action="config.import")
    return _import(call, tenant, document, skip_invalid=skip_invalid)


def _import(call: Call, tenant: TenantId, document: object, *, skip_invalid: bool) -> dict[str, Any]:
    from chalicelib.store import config_items as store
    from chalicelib.store.config_items import StoredItem
    from chalicelib.store.unit_of_work import UnitOfWork

    raw_items = parse_import(document)
    existing = store.keys(tenant)
    from chalicelib.store import whitelists

    known_lists = {w.id for w in whitelists.list_for_tenant(tenant)}
    valid: list[ConfigItem] = []
    skipped: list[str] = []
    invalid: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_items):
        try:
            item = parse_item(raw, path=f"items[{i}]")
            if item.key in seen:
                raise ValidationError(
                    f"items[{i}].key", f"{item.key} appears twice (also items[{seen[item.key]}])"
                )
            seen[item.key] = i
            _check_whitelists(tenant, [(f"items[{i}].", item)], known_lists)
        except ValidationError as exc:
            invalid.append({"index": i, "field": exc.field, "rule": exc.rule})
            continue
        if item.key in existing:
            skipped.append(item.key)
        else:
            valid.append(item)
    if invalid and not skip_invalid:
        first = invalid[0]
        more = f" ({len(invalid) - 1} more invalid items)" if len(invalid) > 1 else ""
        raise ValidationError(first["field"], f"{first['rule']}{more}; nothing was imported")

    import_id = uuid.uuid4().hex[:16]
    seqs = store.last_seqs(tenant) if valid else {}  # keys deleted before continue their history
    written: list[StoredItem] = []
    try:
        for chunk_items in _chunks(valid):
            chunk = [
                StoredItem(
                    item=item,
                    seq=seqs.get(item.key, 0) + 1,
                    created_at=call.at,
                    created_by=call.actor,
                    updated_at=call.at,
                    updated_by=call.actor,
                    import_id=import_id,
                )
                for item in chunk_items
            ]
            uow = UnitOfWork()
            for stored in chunk:
                store.add(uow, tenant, stored, action="import")
            uow.audit(
                audit.entry(
                    call,
                    tenant,
                    "config.import",
                    "config_import",
                    import_id,
                    after={"keys": [s.item.key for s in chunk]},
                )
            )
            uow.commit()
            written.extend(chunk)
    except MdsError:
        if written:
            store.undo_import(tenant, written, import_id)
            undo = UnitOfWork()
            undo.audit(
                audit.entry(
                    call,
                    tenant,
                    "config.import.undone",
                    "config_import",
                    import_id,
                    detail=f"a later part failed; removed the {len(written)} items already written",
                )
            )
            undo.commit()
        raise
    if written:
        publishing.changed(tenant, PRODUCT)
    return {
        "importId": import_id,
        "imported": [s.item.key for s in written],
        "skipped": skipped,
        "invalid": invalid,
    }


def _chunks(items: list[ConfigItem]) -> list[list[ConfigItem]]:
    """Groups that fit one transaction: at most 45 items (2 writes each + the audit entry <= 100
    writes) and about 1.5 MB of item data (each item is written twice; DynamoDB allows 4 MB)."""
    chunks: list[list[ConfigItem]] = []
    size = 0
    for item in items:
        item_size = len(json.dumps(item.to_json()))
        if not chunks or len(chunks[-1]) >= _ITEMS_PER_COMMIT or size + item_size > _BYTES_PER_COMMIT:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += item_size
    return chunks


def request_import_upload(call: Call, tenant: TenantId, *, filename: str) -> dict[str, Any]:
    """A presigned POST for a JSON file; the import runs when S3 reports the file and its result is
    the upload's ``result`` (``GET .../uploads/{uploadId}``)."""
    audit.check(call, tenant, Permission.RELEASE, action="config.import")
    return uploads.request_upload(call, tenant, purpose=IMPORT_PURPOSE, filename=filename)


@uploads.processor(IMPORT_PURPOSE)
def import_file(record: Any) -> dict[str, Any]:
    """Runs in the event handler, as the user who requested the upload (their permission was
    checked when they asked for the upload)."""
    from chalicelib.store import uploads as upload_store

    document = _json_document(upload_store.read_object(record))
    return _import(uploads.call_for(record), record.tenant, document, skip_invalid=False)
