"""Reference client for switch configuration, on top of ``DeviceClient`` (docs/config.md, "Client").

It mirrors mPaaS ``MPConfigService``: ``get_config(key, default)``, ``load_config()`` (loads when the
refresh interval has passed: 30 minutes, or ``Load_Config_Interval`` seconds when that key is
delivered), ``load_config_immediately()``, and change listeners called once per changed key (added,
changed or removed; never for an unchanged reload). Values are persisted in the device's state
directory, so a restarted app has its last values before its first load.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.domain.config import interval_seconds, typed_value
from chalicelib.domain.targeting import Device
from mds.device.client import Decision, DeviceClient

Listener = Callable[[str, Any], None]  # (key, new typed value or None when removed)

PRODUCT = "config"


class ConfigClient:
    def __init__(
        self,
        device_client: DeviceClient,
        device: Device,
        *,
        state_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = device_client
        self.device = device
        self._path = Path(state_dir or device_client.state_dir) / "config-values.json"
        self._clock = clock
        self._listeners: list[tuple[str | None, Listener]] = []
        self.last_decision: Decision | None = None
        stored = json.loads(self._path.read_text()) if self._path.exists() else {}
        self._configs: dict[str, dict[str, Any]] = stored.get("configs", {})
        self._loaded_at: float | None = stored.get("loadedAt")

    # --- reading --------------------------------------------------------------------------------

    def get_config(self, key: str, default: Any = None) -> Any:
        """The value delivered for ``key`` (typed: str, int/float, bool, parsed JSON), else ``default``."""
        entry = self._configs.get(key)
        return default if entry is None else typed_value(entry["type"], entry["value"])

    def get_config_text(self, key: str, default: str | None = None) -> str | None:
        """The value as mPaaS ``getConfig`` returns it: text."""
        entry = self._configs.get(key)
        return default if entry is None else entry["value"]

    def keys(self) -> list[str]:
        return sorted(self._configs)

    @property
    def interval(self) -> float:
        """Seconds between loads: ``Load_Config_Interval`` if delivered, else 30 minutes."""
        return interval_seconds(self._configs)

    # --- loading --------------------------------------------------------------------------------

    def load_config(self) -> list[str] | None:
        """Load if the refresh interval has passed since the last load (or nothing was loaded yet).
        Returns the changed keys, or None when it was not time to load."""
        if self._loaded_at is not None and self._clock() - self._loaded_at < self.interval:
            return None
        return self.load_config_immediately()

    def load_config_immediately(self) -> list[str]:
        """Load now (CDN manifest first, like every check); call listeners once per changed key.
        Returns the changed keys."""
        decision = self._client.check(PRODUCT, self.device)
        self.last_decision = decision
        fresh: dict[str, dict[str, Any]] = {
            key: {"value": entry["value"], "type": entry["type"]}
            for key, entry in decision.answer.get("configs", {}).items()
        }
        changed = sorted(k for k in set(fresh) | set(self._configs) if fresh.get(k) != self._configs.get(k))
        self._configs = fresh
        self._loaded_at = self._clock()
        self._save()
        for key in changed:
            value = self.get_config(key)
            for wanted, listener in list(self._listeners):
                if wanted is None or wanted == key:
                    listener(key, value)
        return changed

    # --- listeners ------------------------------------------------------------------------------

    def add_config_change_listener(self, listener: Listener, key: str | None = None) -> bool:
        """Call ``listener(key, value)`` when ``key`` (or, with no key, any key) changes. Returns False
        if that listener is already registered for that key."""
        if (key, listener) in self._listeners:
            return False
        self._listeners.append((key, listener))
        return True

    def remove_config_change_listener(self, listener: Listener, key: str | None = None) -> None:
        if (key, listener) in self._listeners:
            self._listeners.remove((key, listener))

    def _save(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"configs": self._configs, "loadedAt": self._loaded_at}))
        tmp.replace(self._path)
