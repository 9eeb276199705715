"""Time-window grants: the dynamic API's signed "this device holds a place" that stays on the device.

When the check API claims a time-window place for a device it also hands back a **grant**, a signed
document (an envelope, like every manifest file, by the tenant's manifest key) naming the tenant, the
product, the candidate, a hash of the device's identity and ``until`` (the window's end). The device
stores it and re-verifies it offline at every check: a device that holds a valid grant for a
candidate counts that candidate as claimed and never asks the API about it again. Once a window is
full the manifest marks its entry ``closed``: devices without a grant skip it without asking.

A grant proves nothing to the server (the claim record in DynamoDB does); it only lets the device skip
the round trip. So a grant that does not verify, names another tenant, product, candidate or identity,
or has run out, is simply not held (``refusal`` says why).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

GRANT_TYPE = "mds-grant/1"

# Why a grant is not held, by reason code (the conformance kit's ``grants`` vectors name the codes; the
# envelope's own reasons — ``signature``, ``unknown-key``, ``format`` — come first).
REFUSALS = {
    "workspace": "the grant is for another workspace",
    "release": "the grant is for another release",
    "device": "the grant is for another device",
    "expired": "the grant has run out",
}


def identity_hash(identity: str) -> str:
    """How a grant names its device: the SHA-256 (hex) of its identity (user ID, else device ID)."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Grant:
    app_id: str
    workspace_id: str
    product: str
    candidate_id: str
    identity: str  # identity_hash() of the device's identity
    until: int  # epoch seconds: the window's end
    issued_at: int

    def document(self) -> dict[str, Any]:
        return {
            "type": GRANT_TYPE,
            "appId": self.app_id,
            "workspaceId": self.workspace_id,
            "product": self.product,
            "candidate": self.candidate_id,
            "identity": self.identity,
            "until": self.until,
            "issuedAt": self.issued_at,
        }

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> Grant:
        """Raises ValueError naming the field for anything that is not a grant."""
        if data.get("type") != GRANT_TYPE:
            raise ValueError(f"type: is {data.get('type')!r}; a grant is {GRANT_TYPE!r}")
        for name in ("appId", "workspaceId", "product", "candidate", "identity"):
            if not isinstance(data.get(name), str) or not data.get(name):
                raise ValueError(f"{name}: is required (text)")
        for name in ("until", "issuedAt"):
            if isinstance(data.get(name), bool) or not isinstance(data.get(name), int):
                raise ValueError(f"{name}: is required (epoch seconds)")
        return cls(
            data["appId"],
            data["workspaceId"],
            data["product"],
            data["candidate"],
            data["identity"],
            data["until"],
            data["issuedAt"],
        )

    def refusal(
        self,
        *,
        app_id: str,
        workspace_id: str,
        product: str,
        candidate_id: str,
        identity: str | None,
        now: int,
    ) -> str | None:
        """Why this grant does not give ``candidate_id`` to the device with ``identity`` at ``now``
        (None: it does)."""
        if (self.app_id, self.workspace_id) != (app_id, workspace_id):
            return REFUSALS["workspace"]
        if (self.product, self.candidate_id) != (product, candidate_id):
            return REFUSALS["release"]
        if not identity or identity_hash(identity) != self.identity:
            return REFUSALS["device"]
        if now >= self.until:
            return REFUSALS["expired"]
        return None
