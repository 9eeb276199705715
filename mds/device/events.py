"""What the reference device reports back: its events, in batches, each fact once (docs/events.md).

``EventReporter`` keeps a queue of events in the device's state dir (so nothing is lost across
restarts or while offline) and the set of facts it already queued — "offered upgrade-task-12",
"installed h5-task-3" — so a device checking every 30 minutes sends "offered" once, not 48 times a
day. ``flush()`` sends the queue in batches of 50 to ``POST /client/v1/events``; a network error or a
5xx keeps the queue for the next flush, a 4xx (a bad batch, which retrying cannot fix) drops it.
The server counts facts exactly once anyway; the local dedup is what keeps the traffic small.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from chalicelib.domain.events import MAX_EVENTS_PER_BATCH, SCHEMA
from chalicelib.domain.targeting import Device
from mds.device.client import Decision, DeviceClient

_REPORTED = ("upgrade-task-", "h5-task-", "hotpatch-release-")  # candidates that are releases


class EventReporter:
    def __init__(self, client: DeviceClient, device: Device, *, clock: Any = time.time) -> None:
        if not device.device_id:
            raise ValueError("events need the device's deviceId")
        self._client, self._device, self._clock = client, device, clock
        self._path: Path = client.state_dir / "events.json"

    # --- recording ------------------------------------------------------------------------------

    def record(self, kind: str, release: str, *, reason: str | None = None, value: str | None = None) -> bool:
        """Queue one event unless this fact was queued before. True when queued."""
        state = self._state()
        fact = f"{kind}|{release}|{reason or ''}|{value or ''}"
        if fact in state["facts"]:
            return False
        event: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "type": kind,
            "at": int(self._clock()),
            "release": release,
        }
        if reason is not None:
            event["reason"] = reason
        if value is not None:
            event["value"] = value
        state["facts"].append(fact)
        state["queue"].append(event)
        self._save(state)
        return True

    def checked(self, decision: Decision) -> None:
        """After a check: each release the answer offers, and the prompt if the app shows it now."""
        for release in decision.chosen.values():
            if release.startswith(_REPORTED):
                self.record("check.answered", release)
                if decision.prompt and release.startswith("upgrade-task-"):
                    self.record("prompt.shown", release)

    def h5_synced(self, results: Mapping[str, Mapping[str, Any]]) -> None:
        """After ``DeviceClient.sync_h5``: what was downloaded and installed, or why not."""
        for result in results.values():
            release = result.get("release")
            if not release:
                continue
            self.record("check.answered", release)
            if result.get("error"):
                self.record("install.failed", release, reason=_reason(str(result["error"])))
            elif result.get("via"):
                self.record("download.finished", release)
                self.record("install.finished", release)

    def config_active(self, key: str, value: Any) -> None:
        """The value of ``key`` now in force on the device."""
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        self.record("config.active", f"config:{key}", value=text)

    # --- sending --------------------------------------------------------------------------------

    def pending(self) -> int:
        return len(self._state()["queue"])

    def flush(self) -> int:
        """Send what is queued; returns how many events the server accepted."""
        state = self._state()
        sent = 0
        while state["queue"]:
            events = state["queue"][:MAX_EVENTS_PER_BATCH]
            try:
                reply = self._client.post("/client/v1/events", self._batch(events))
            except httpx.TransportError:
                break
            if reply.status_code >= 500 or reply.status_code == 429:
                break
            if reply.status_code == 202:
                sent += int(reply.json()["accepted"])
            del state["queue"][: len(events)]  # accepted, or refused for good (4xx)
            self._save(state)
        return sent

    def _batch(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        d = self._device
        version = d.client_version.text if d.client_version else "0"
        return {"schema": SCHEMA, "appId": self._client.app_id, "workspaceId": self._client.workspace_id,
                "platform": d.platform.value, "deviceId": d.device_id, "clientVersion": version,
                "events": events}  # fmt: skip

    def _state(self) -> dict[str, Any]:
        if self._path.exists():
            return json.loads(self._path.read_text())
        return {"queue": [], "facts": []}

    def _save(self, state: dict[str, Any]) -> None:
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self._path)


def _reason(error: str) -> str:
    """A short, countable reason from an error message ('#' is the counters' separator)."""
    return error.replace("#", " ").splitlines()[0][:200] or "unknown"
