"""Global H5 resources online (guide "Global resource package"): when a global package version is
released, its files are served unpacked from the CDN at ``<CDN>/<appId>_<workspaceId>/<path>`` — its
``fallbackBaseUrl`` — so a page that references them loads on a device without the offline package."""

from __future__ import annotations

from chalicelib.domain.h5 import H5Resource, ResourceType
from chalicelib.domain.tenancy import TenantId


def online_path(tenant: TenantId, member: str) -> str | None:
    """The CDN key of an ``.amr`` member ``<h5Id>/<domain>/<appId>_<workspaceId>/<path>``; None for a
    member outside the tenant's folder (inspection refuses such packages; this only keeps it so)."""
    from chalicelib.store import h5_files

    parts = member.split("/", 3)
    prefix = h5_files.online_prefix(tenant)
    if len(parts) < 4 or f"{parts[2]}/" != prefix or not parts[3]:
        return None
    return prefix + parts[3]


def publish(tenant: TenantId, resource: H5Resource) -> list[str]:
    """Put a global resource's files online (streamed from its kept ``.amr``); returns their CDN keys.
    Normal resources have nothing to put online."""
    from chalicelib.packaging import amr
    from chalicelib.store import h5_files

    if resource.resource_type is not ResourceType.GLOBAL or resource.files is None:
        return []
    keys = []
    with h5_files.spool_artifact(resource.files.amr_key) as local:
        for member, _size, stream in amr.package_files(local):
            key = online_path(tenant, member)
            if key is not None:
                h5_files.put_online(key, stream)
                keys.append(key)
    h5_files.invalidate(keys)
    return keys
