"""Whitelist metadata in DynamoDB, member lists in S3.

A normal list's members are one S3 object (sorted, newline-separated) in the versioned artifacts
bucket. A change writes a new object version first, then commits its VersionId to DynamoDB with an
optimistic-lock condition; readers always follow the VersionId in DynamoDB, so a failed or lost
commit leaves an unreferenced object version and never a half-applied list.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from chalicelib.config import settings
from chalicelib.domain.errors import Conflict
from chalicelib.domain.tenancy import TenantId
from chalicelib.domain.whitelists import WhitelistKind
from chalicelib.store import numbered
from chalicelib.store.aws import client
from chalicelib.store.models import WhitelistModel
from chalicelib.store.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Whitelist:
    tenant: TenantId
    id: str
    name: str
    kind: WhitelistKind
    count: int
    salt: str
    created_at: str
    created_by: str
    updated_at: str
    content_version: str | None = None
    patterns: tuple[str, ...] = ()
    version: int | None = None

    def view(self) -> dict:
        view: dict[str, Any] = {
            "whitelistId": self.id,
            "name": self.name,
            "type": self.kind.value,
            "count": self.count,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "updatedAt": self.updated_at,
            "version": self.version,
        }
        if self.kind is WhitelistKind.REGEX:
            view["patterns"] = list(self.patterns)
        return view


def content_key(tenant: TenantId, whitelist_id: str) -> str:
    return f"whitelists/{tenant.app_id}/{tenant.workspace_id}/{whitelist_id}/members.txt"


def _name_key(name: str) -> str:
    return f"name#{name.casefold()}"


def _from_model(m: WhitelistModel) -> Whitelist:
    return Whitelist(
        tenant=TenantId.from_key(m.tenant),
        id=m.whitelist_id,
        name=m.name,
        kind=WhitelistKind(m.kind),
        count=int(m.member_count or 0),
        salt=m.salt or "",
        created_at=m.created_at,
        created_by=m.created_by,
        updated_at=m.updated_at,
        content_version=m.content_version,
        patterns=tuple(m.patterns or ()),
        version=m.version,
    )


def _to_model(w: Whitelist) -> WhitelistModel:
    model = WhitelistModel(
        tenant=w.tenant.key,
        whitelist_id=w.id,
        name=w.name,
        kind=w.kind.value,
        member_count=w.count,
        salt=w.salt,
        created_at=w.created_at,
        created_by=w.created_by,
        updated_at=w.updated_at,
        content_version=w.content_version,
        patterns=list(w.patterns) if w.kind is WhitelistKind.REGEX else None,
    )
    if w.version is not None:
        model.version = w.version
    return model


def add(uow: UnitOfWork, whitelist: Whitelist) -> None:
    uow.save(
        WhitelistModel(
            tenant=whitelist.tenant.key, whitelist_id=_name_key(whitelist.name), name=whitelist.id
        ),
        condition=WhitelistModel.whitelist_id.does_not_exist(),
        on_conflict=Conflict(f"a whitelist named {whitelist.name!r} already exists"),
    )
    uow.save(
        _to_model(whitelist),
        condition=WhitelistModel.whitelist_id.does_not_exist(),
        on_conflict=Conflict("whitelist id collision; try again"),
    )


def update(uow: UnitOfWork, before: Whitelist, after: Whitelist) -> None:
    """Optimistic: commits only if nobody changed the list since ``before`` was read."""
    if before.name.casefold() != after.name.casefold():
        uow.delete(
            WhitelistModel(tenant=before.tenant.key, whitelist_id=_name_key(before.name)), versioned=False
        )
        uow.save(
            WhitelistModel(tenant=after.tenant.key, whitelist_id=_name_key(after.name), name=after.id),
            condition=WhitelistModel.whitelist_id.does_not_exist(),
            on_conflict=Conflict(f"a whitelist named {after.name!r} already exists"),
        )
    uow.save(_to_model(replace(after, version=before.version)))


def remove(uow: UnitOfWork, whitelist: Whitelist) -> None:
    uow.delete(
        WhitelistModel(tenant=whitelist.tenant.key, whitelist_id=_name_key(whitelist.name)), versioned=False
    )
    uow.delete(_to_model(whitelist))


def get(tenant: TenantId, whitelist_id: str) -> Whitelist:
    return _from_model(numbered.get(WhitelistModel, tenant, whitelist_id, "whitelist"))


def list_for_tenant(tenant: TenantId) -> list[Whitelist]:
    return [_from_model(m) for m in numbered.all_of(WhitelistModel, tenant)]


# --- members (S3) --------------------------------------------------------------------------------


def write_members(tenant: TenantId, whitelist_id: str, members: list[str]) -> str:
    """Store a sorted member list as a new object version; returns its VersionId (not yet in force)."""
    body = "\n".join(members).encode()
    reply = client("s3").put_object(
        Bucket=settings().artifacts_bucket,
        Key=content_key(tenant, whitelist_id),
        Body=body,
        ContentType="text/plain; charset=utf-8",
    )
    return reply["VersionId"]


def read_members(whitelist: Whitelist) -> tuple[str, ...]:
    """The members in force (sorted). Cached per object version: versions never change."""
    if not whitelist.content_version:
        return ()
    return _read_version(content_key(whitelist.tenant, whitelist.id), whitelist.content_version)


@lru_cache(maxsize=8)
def _read_version(key: str, version_id: str) -> tuple[str, ...]:
    body = (
        client("s3")
        .get_object(Bucket=settings().artifacts_bucket, Key=key, VersionId=version_id)["Body"]
        .read()
    )
    text = body.decode("utf-8")
    return tuple(text.split("\n")) if text else ()


def delete_members(whitelist: Whitelist) -> None:
    """Remove every stored version of the member list (after the metadata is gone)."""
    s3, bucket = client("s3"), settings().artifacts_bucket
    key = content_key(whitelist.tenant, whitelist.id)
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)
    for entry in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        if entry["Key"] == key:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=entry["VersionId"])
