"""Hotpatches as delivery candidates (product ``hotpatch``; see services/products.py).

- ``candidates(tenant, platform, now=)``: every running release of a ready patch, in priority order
  (``domain.hotpatch.priority_key``), each targeting exactly its patch's app version; then, for every
  app version with revoked patches, a catch-all "no patch" candidate, so that a device there always
  receives the rollback directive (``revoked`` + ``rollbackSeq``) even when no release is left for it.
- ``claim``: hotpatch candidates are never dynamic.
- ``answer(chosen, device)``: the chosen payload, or ``{"patchId": null, "revoked": [], "rollbackSeq": 0}``.
"""

from __future__ import annotations

from chalicelib.domain.delivery import Candidate
from chalicelib.domain.errors import present
from chalicelib.domain.hotpatch import (
    in_priority_order,
    no_patch_payload,
    patch_payload,
    rollback_directive,
    target_range,
)
from chalicelib.domain.targeting import Device, Platform, Target
from chalicelib.domain.tenancy import TenantId

PREFIX = "hotpatch-release-"
NONE_PREFIX = "hotpatch-none-"


def candidates(tenant: TenantId, platform: Platform, *, now: int) -> list[Candidate]:
    from chalicelib.services.hotpatch import cdn_url
    from chalicelib.store import hotpatch as store

    patches = [p for p in store.list_patches(tenant) if p.platform is platform]
    usable = {p.id: p for p in patches if p.usable}
    running = [
        (r, usable[r.patch_id])
        for r in store.list_releases(tenant)
        if r.patch_id in usable and r.is_running()
    ]
    found = []
    for release, patch in in_priority_order(running):
        revoked, seq = rollback_directive(patches, patch.app_version)
        found.append(
            Candidate(
                id=f"{PREFIX}{release.id}",
                target=release.target.compile(),
                payload=patch_payload(
                    release, patch, url=cdn_url(present(patch.file, "a released patch's file").path),
                    revoked=revoked, rollback_seq=seq,
                ),
            )
        )
    versions = {p.app_version for p in patches if p.rollback_seq is not None}
    for version in sorted(versions):
        revoked, seq = rollback_directive(patches, version)
        found.append(
            Candidate(
                id=f"{NONE_PREFIX}{version.canonical}",
                target=Target(platform, (target_range(version),)).compile(),
                payload=no_patch_payload(revoked=revoked, rollback_seq=seq),
            )
        )
    return found


def claim(tenant: TenantId, candidate: Candidate, device: Device, *, now: int) -> bool:
    return True


