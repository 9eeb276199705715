"""Reference client for hotpatches: what an app does with the ``hotpatch`` answer.

``HotpatchClient.sync(device)`` checks the ``hotpatch`` product through ``DeviceClient`` (static
manifests from the CDN, signature-checked), then:

1. merges the answer's rollback directive into what it keeps: the **revoked** patch IDs (a set that
   only grows) and the highest **rollbackSeq** seen — so no stale manifest can bring a revoked patch back;
2. removes the applied patch if it is revoked;
3. applies the answered patch if it is not revoked and is newer (``order``) than the one applied, or
   none is applied: downloads it from the CDN, checks size and SHA-256, verifies the RSA-SHA256
   signature with the **pinned** public key the entry names (``keyId``), and only then installs it
   into ``state_dir``; a patch that fails any check is not applied;
4. reports the outcome (``applied`` / ``failed`` + reason) to ``POST /client/v1/hotpatch/report``.

Pausing or ending a release does not remove a patch from devices that applied it; a rollback does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from chalicelib.domain.targeting import Device
from mds.device.client import DeviceClient


@dataclass
class SyncResult:
    applied: str | None  # the patch in force after this sync
    actions: list[str] = field(default_factory=list)  # "removed 12", "applied 14", "refused 15: ..."
    answer: dict[str, Any] = field(default_factory=dict)
    static: bool = True
    stale: bool = False


class HotpatchClient:
    def __init__(
        self,
        checker: DeviceClient,
        *,
        cdn_url: str,
        api_url: str,
        app_id: str,
        workspace_id: str,
        patch_keys: Mapping[str, str],
        state_dir: Path,
        transport: httpx.BaseTransport | None = None,
        api_transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``patch_keys``: key ID -> PEM of the public keys the app pins (``GET .../hotpatch/keys``)."""
        self._checker = checker
        self._cdn = httpx.Client(base_url=cdn_url.rstrip("/"), transport=transport, timeout=30)
        self._api = httpx.Client(base_url=api_url.rstrip("/"), transport=api_transport, timeout=10)
        self.app_id, self.workspace_id = app_id, workspace_id
        self._keys = dict(patch_keys)
        self._dir = Path(state_dir) / "hotpatch"
        self._dir.mkdir(parents=True, exist_ok=True)

    # --- the sync -------------------------------------------------------------------------------

    def sync(self, device: Device, *, report: bool = True) -> SyncResult:
        decision = self._checker.check("hotpatch", device)
        result = self.apply_answer(decision.answer, device, report=report)
        result.static, result.stale = decision.static, decision.stale
        return result

    def apply_answer(self, answer: Mapping[str, Any], device: Device, *, report: bool = True) -> SyncResult:
        """Act on one answer (a fresh one, or an old one replayed: the revoked set still holds)."""
        state = self._state()
        slot = state.setdefault(self._slot(device), {"applied": None, "revoked": [], "rollbackSeq": 0})
        revoked = set(slot["revoked"]) | {str(p) for p in answer.get("revoked") or []}
        slot["revoked"] = sorted(revoked, key=int)
        slot["rollbackSeq"] = max(int(slot["rollbackSeq"]), int(answer.get("rollbackSeq") or 0))
        result = SyncResult(applied=None, answer=dict(answer))
        current = slot["applied"]
        if current is not None and current["patchId"] in revoked:
            shutil.rmtree(self._dir / current["dir"], ignore_errors=True)
            result.actions.append(f"removed {current['patchId']}")
            slot["applied"] = current = None
        wanted = answer.get("patchId")
        newer = current is None or (
            wanted != current["patchId"] and int(answer.get("order") or 0) > current["order"]
        )
        if wanted is not None and str(wanted) not in revoked and newer:
            error = self._install(answer, device, slot)
            if error is None:
                result.actions.append(f"applied {wanted}")
            else:
                result.actions.append(f"refused {wanted}: {error}")
            if report:
                self.report(device, answer, error)
        self._save_state(state)
        result.applied = slot["applied"]["patchId"] if slot["applied"] else None
        return result

    def applied(self, device: Device) -> dict[str, Any] | None:
        """What is installed for the device's app version: ``{"patchId", "order", "sha256", "dir"}``."""
        return self._state().get(self._slot(device), {}).get("applied")

    def patch_file(self, device: Device) -> Path | None:
        current = self.applied(device)
        return None if current is None else self._dir / current["dir"] / current["filename"]

    def report(self, device: Device, answer: Mapping[str, Any], error: str | None) -> httpx.Response:
        body = {
            "appId": self.app_id,
            "workspaceId": self.workspace_id,
            "deviceId": device.device_id or device.user_id or "",
            "patchId": str(answer["patchId"]),
            "outcome": "failed" if error else "applied",
        }
        if answer.get("releaseId"):
            body["releaseId"] = str(answer["releaseId"])
        if error:
            body["reason"] = error[:500]
        return self._api.post("/client/v1/hotpatch/report", json=body)

    # --- install --------------------------------------------------------------------------------

    def _install(self, answer: Mapping[str, Any], device: Device, slot: dict[str, Any]) -> str | None:
        """Download, check, verify and install; None on success, else why it was not applied."""
        from chalicelib.security import rsa_keys

        pem = self._keys.get(str(answer.get("keyId")))
        if pem is None:
            return f"signed by key {answer.get('keyId')}, which this app does not pin"
        try:
            reply = self._cdn.get("/" + str(answer["path"]))
        except httpx.TransportError as exc:
            return f"download failed: {exc}"
        if reply.status_code != 200:
            return f"download failed: HTTP {reply.status_code}"
        content = reply.content
        if len(content) != int(answer["size"]) or hashlib.sha256(content).hexdigest() != answer["sha256"]:
            return "the file is not the one the manifest lists (size or SHA-256 differs)"
        if not rsa_keys.verify(pem, content, base64.b64decode(str(answer["signature"]))):
            return "the signature does not verify with the pinned key"
        target = f"{self._slot(device)}/{answer['patchId']}"
        (self._dir / target).mkdir(parents=True, exist_ok=True)
        (self._dir / target / str(answer["filename"])).write_bytes(content)
        previous = slot["applied"]
        if previous is not None and previous["dir"] != target:
            shutil.rmtree(self._dir / previous["dir"], ignore_errors=True)
        slot["applied"] = {
            "patchId": str(answer["patchId"]),
            "order": int(answer["order"]),
            "sha256": answer["sha256"],
            "filename": answer["filename"],
            "dir": target,
        }
        return None

    # --- state ----------------------------------------------------------------------------------

    @staticmethod
    def _slot(device: Device) -> str:
        version = device.client_version.canonical if device.client_version is not None else "unknown"
        return f"{device.platform.value}-{version}"

    def _state(self) -> dict[str, Any]:
        path = self._dir / "state.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_state(self, state: dict[str, Any]) -> None:
        tmp = self._dir / "state.json.tmp"
        tmp.write_text(json.dumps(state, sort_keys=True))
        tmp.replace(self._dir / "state.json")
