"""Whitelist use cases: create, add/remove/import IDs, list/search, patterns, delete.

Every change to a normal list is read-merge-write on the member object followed by one optimistic
commit (see ``store.whitelists``); a conflicting concurrent change is retried on fresh data, so two
people adding IDs at once both land. An import applies fully or not at all.
"""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from chalicelib.domain.access import Permission
from chalicelib.domain.errors import Conflict, ValidationError, VersionConflict
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.whitelists import ParsedIds, WhitelistKind, decode_text, parse_ids, validate_name
from chalicelib.services import audit, uploads
from chalicelib.services.context import Call

_RETRIES = 8  # optimistic retries under contention, with jittered backoff
MAX_TEXT_BYTES = 1024 * 1024  # inline text in the API body; bigger lists go through an import

# Every product whose releases or values can target a whitelist: each module has
# ``using_whitelist(tenant, whitelist_id) -> list[str]`` (what uses it, in words), imported only when a
# whitelist is deleted. Deleting a whitelist something uses is refused, naming every user.
UsageCheck = Callable[[TenantId, str], list[str]]
USAGE_CHECKS: list[UsageCheck] = []  # extra checks (e.g. a product being built, tests)


def create(
    call: Call,
    tenant: TenantId,
    *,
    name: str,
    kind: str,
    ids: str | None = None,
    patterns: list[str] | None = None,
) -> dict[str, Any]:
    from chalicelib.store import sequences
    from chalicelib.store import whitelists as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="whitelist.create")
    name, list_kind = validate_name(name), WhitelistKind.parse(kind)
    checked_patterns: tuple[str, ...] = ()
    if list_kind is WhitelistKind.REGEX:
        if ids:
            raise ValidationError("ids", "a regex whitelist holds patterns, not IDs")
        from chalicelib.patterns import validate_patterns

        checked_patterns = tuple(validate_patterns(patterns))
    elif patterns:
        raise ValidationError("patterns", "only regex whitelists have patterns")
    parsed = parse_ids(ids or "")
    whitelist_id = str(sequences.next_id(tenant))
    content_version = store.write_members(tenant, whitelist_id, sorted(parsed.ids)) if parsed.ids else None
    record = store.Whitelist(
        tenant=tenant,
        id=whitelist_id,
        name=name,
        kind=list_kind,
        count=len(parsed.ids),
        salt=secrets.token_hex(16),  # new per list: recreating a list rotates its salt
        created_at=call.at,
        created_by=call.actor,
        updated_at=call.at,
        content_version=content_version,
        patterns=checked_patterns,
    )
    uow = UnitOfWork()
    store.add(uow, record)
    uow.audit(audit.entry(call, tenant, "whitelist.create", "whitelist", whitelist_id, after=record.view()))
    uow.commit()
    return {**record.view(), "version": 1, **_summary(len(parsed.ids), 0, parsed)}


def get(call: Call, tenant: TenantId, whitelist_id: str) -> dict[str, Any]:
    from chalicelib.store import whitelists as store

    audit.check(call, tenant, Permission.READ, action="whitelist.read")
    return store.get(tenant, whitelist_id).view()


def list_all(call: Call, tenant: TenantId) -> list[dict[str, Any]]:
    from chalicelib.store import whitelists as store

    audit.check(call, tenant, Permission.READ, action="whitelist.list")
    return [w.view() for w in sorted(store.list_for_tenant(tenant), key=lambda w: int(w.id))]


def update(
    call: Call,
    tenant: TenantId,
    whitelist_id: str,
    *,
    name: str | None = None,
    patterns: list[str] | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Rename a list, or replace a regex list's patterns."""
    from chalicelib.store import whitelists as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="whitelist.update")
    before = store.get(tenant, whitelist_id)
    if expected_version is not None and expected_version != before.version:
        raise VersionConflict(
            f"whitelist {whitelist_id} is at version {before.version}, not {expected_version}"
        )
    after = before
    if name is not None:
        after = replace(after, name=validate_name(name))
    if patterns is not None:
        if before.kind is not WhitelistKind.REGEX:
            raise ValidationError("patterns", "only regex whitelists have patterns")
        from chalicelib.patterns import validate_patterns

        after = replace(after, patterns=tuple(validate_patterns(patterns)))
    after = replace(after, updated_at=call.at)
    uow = UnitOfWork()
    store.update(uow, before, after)
    uow.audit(
        audit.entry(
            call,
            tenant,
            "whitelist.update",
            "whitelist",
            whitelist_id,
            before=before.view(),
            after=after.view(),
        )
    )
    uow.commit()
    _republish(tenant)
    return {**after.view(), "version": (before.version or 0) + 1}


def delete(call: Call, tenant: TenantId, whitelist_id: str) -> None:
    from chalicelib.store import whitelists as store
    from chalicelib.store.unit_of_work import UnitOfWork

    audit.check(call, tenant, Permission.RELEASE, action="whitelist.delete")
    current = store.get(tenant, whitelist_id)
    users = in_use(tenant, whitelist_id)
    if users:
        raise Conflict(
            f"whitelist {whitelist_id} is in use and cannot be deleted; it is used by: {', '.join(users)}"
        )
    uow = UnitOfWork()
    store.remove(uow, current)
    uow.audit(audit.entry(call, tenant, "whitelist.delete", "whitelist", whitelist_id, before=current.view()))
    uow.commit()
    _republish(tenant)
    store.delete_members(current)


def add_members(call: Call, tenant: TenantId, whitelist_id: str, text: str) -> dict[str, Any]:
    audit.check(call, tenant, Permission.RELEASE, action="whitelist.add")
    return _change_members(
        call, tenant, whitelist_id, parse_ids(_bounded(text)), adding=True, action="whitelist.add"
    )


def remove_members(call: Call, tenant: TenantId, whitelist_id: str, text: str) -> dict[str, Any]:
    audit.check(call, tenant, Permission.RELEASE, action="whitelist.remove")
    return _change_members(
        call, tenant, whitelist_id, parse_ids(_bounded(text)), adding=False, action="whitelist.remove"
    )


def members(
    call: Call, tenant: TenantId, whitelist_id: str, *, search: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    """A page of members in ID order; ``search`` keeps IDs containing it; ``cursor`` is the last ID seen."""
    from chalicelib.store import whitelists as store

    audit.check(call, tenant, Permission.READ, action="whitelist.members")
    if not 1 <= limit <= 1000:
        raise ValidationError("limit", "must be between 1 and 1000")
    whitelist = _normal(store.get(tenant, whitelist_id))
    all_ids = store.read_members(whitelist)
    start = bisect.bisect_right(all_ids, cursor) if cursor else 0
    page: list[str] = []
    for user_id in all_ids[start:]:
        if search and search not in user_id:
            continue
        page.append(user_id)
        if len(page) == limit:
            break
    more = len(page) == limit and page[-1] != all_ids[-1]
    return {"ids": page, "nextCursor": page[-1] if more else None, "count": whitelist.count}


def contains(call: Call, tenant: TenantId, whitelist_id: str, user_id: str) -> dict[str, Any]:
    from chalicelib.store import whitelists as store

    audit.check(call, tenant, Permission.READ, action="whitelist.members")
    whitelist = store.get(tenant, whitelist_id)
    if whitelist.kind is WhitelistKind.REGEX:
        from chalicelib.patterns import any_matches

        return {"userId": user_id, "member": any_matches(whitelist.patterns, user_id)}
    ids = store.read_members(whitelist)
    i = bisect.bisect_left(ids, user_id)
    return {"userId": user_id, "member": i < len(ids) and ids[i] == user_id}


def request_import(call: Call, tenant: TenantId, whitelist_id: str, *, filename: str) -> dict[str, Any]:
    """A presigned POST for an ID file; the import runs when S3 reports the file (see ``import_file``)."""
    from chalicelib.store import whitelists as store

    audit.check(call, tenant, Permission.RELEASE, action="whitelist.import")
    _normal(store.get(tenant, whitelist_id))
    return uploads.request_upload(call, tenant, purpose="whitelist", filename=filename, subject=whitelist_id)


def add_members_from_file(call: Call, tenant: TenantId, whitelist_id: str, file_key: str) -> dict[str, Any]:
    """Import an ID file already stored by the OpenAPI upload host (``files/<file_key>``, resolved and
    checked to be the tenant's by ``file_tokens.resolve``): the whole file in one commit, or nothing."""
    from chalicelib.domain.uploads import PURPOSES
    from chalicelib.store import mcube_files
    from chalicelib.store import whitelists as store

    audit.check(call, tenant, Permission.RELEASE, action="whitelist.import")
    _normal(store.get(tenant, whitelist_id))
    limit = PURPOSES["whitelist"].max_bytes
    try:
        data = mcube_files.read(file_key, max_bytes=limit)
    except ValueError:
        raise ValidationError("file", f"must be at most {limit} bytes") from None
    return _change_members(
        call, tenant, whitelist_id, parse_ids(decode_text(data)), adding=True, action="whitelist.import"
    )


@uploads.processor("whitelist")
def import_file(record: Any) -> dict[str, Any]:
    """Runs in the event handler: the whole file lands in one commit, or nothing does."""
    from chalicelib.store import uploads as upload_store

    text = decode_text(upload_store.read_object(record))
    call = uploads.call_for(record)
    return _change_members(
        call, record.tenant, record.subject, parse_ids(text), adding=True, action="whitelist.import"
    )


# --- used by the products that target whitelists ------------------------------------------------


def check_exist(
    tenant: TenantId,
    whitelist_ids: tuple[str, ...],
    *,
    field: str = "whitelistIds",
    known: set[str] | None = None,
) -> None:
    """Every whitelist named must exist in the workspace; ``known`` (the tenant's whitelist IDs) saves
    reads when many targets are checked at once.

    Raises:
        ValidationError: ``{field}[i]`` for the first one that does not exist.
    """
    from chalicelib.domain.errors import NotFound
    from chalicelib.store import whitelists as store

    for i, whitelist_id in enumerate(whitelist_ids):
        if known is not None:
            exists = whitelist_id in known
        else:
            try:
                store.get(tenant, whitelist_id)
                exists = True
            except NotFound:
                exists = False
        if not exists:
            raise ValidationError(
                f"{field}[{i}]", f"whitelist {whitelist_id} does not exist in this workspace"
            )


def in_use(tenant: TenantId, whitelist_id: str) -> list[str]:
    """What uses ``whitelist_id`` now (live tasks and releases, config values), in words."""
    import importlib

    from chalicelib.services import products

    users = products.whitelist_users()  # each product's releases module
    checks = [importlib.import_module(name).using_whitelist for name in users] + USAGE_CHECKS
    return [user for check in checks for user in check(tenant, whitelist_id)]


# --- helpers -------------------------------------------------------------------------------------


def _bounded(text: object) -> str:
    if not isinstance(text, str):
        raise ValidationError("ids", "must be a string of IDs separated by commas or newlines")
    if len(text.encode()) > MAX_TEXT_BYTES:
        raise ValidationError("ids", f"at most {MAX_TEXT_BYTES} bytes inline; import a file for more")
    return text


def _normal(whitelist: Any) -> Any:
    if whitelist.kind is not WhitelistKind.NORMAL:
        raise ValidationError("type", "a regex whitelist has patterns, not member IDs")
    return whitelist


def _summary(changed: int, unchanged: int, parsed: ParsedIds, *, adding: bool = True) -> dict[str, Any]:
    key, other = ("added", "alreadyPresent") if adding else ("removed", "notPresent")
    return {
        key: changed,
        other: unchanged,
        "rejected": [r.view() for r in parsed.rejected[:1000]],
        "rejectedCount": len(parsed.rejected),
    }


def _change_members(
    call: Call, tenant: TenantId, whitelist_id: str, parsed: ParsedIds, *, adding: bool, action: str
) -> dict[str, Any]:
    from chalicelib.store import whitelists as store
    from chalicelib.store.unit_of_work import UnitOfWork, retry_on_conflict

    def apply() -> dict[str, Any]:
        before = _normal(store.get(tenant, whitelist_id))
        current = set(store.read_members(before))
        if adding:
            fresh = [i for i in parsed.ids if i not in current]
            merged, changed = current.union(fresh), len(fresh)
        else:
            present = [i for i in parsed.ids if i in current]
            merged, changed = current.difference(present), len(present)
        summary = _summary(changed, len(parsed.ids) - changed, parsed, adding=adding)
        if changed == 0:
            return {**before.view(), **summary}
        content_version = store.write_members(tenant, whitelist_id, sorted(merged))
        after = replace(before, count=len(merged), content_version=content_version, updated_at=call.at)
        uow = UnitOfWork()
        store.update(uow, before, after)
        uow.audit(
            audit.entry(
                call,
                tenant,
                action,
                "whitelist",
                whitelist_id,
                before={"count": before.count},
                after={"count": after.count, **{k: v for k, v in summary.items() if k != "rejected"}},
            )
        )
        uow.commit()  # a concurrent change raises VersionConflict: merge again on fresh data
        _republish(tenant)
        return {**after.view(), "version": (before.version or 0) + 1, **summary}

    return retry_on_conflict(apply, tries=_RETRIES)


def _republish(tenant: TenantId) -> None:
    """Published manifests carry whitelist versions: re-publish what this tenant has out."""
    from chalicelib.services import publishing

    publishing.republish_tenant(tenant)
