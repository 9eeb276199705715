"""The append-only journal of state-changing AWS requests (``<data-dir>/aws-journal.jsonl``).

One JSON object per line. Each line is written and flushed to the OS before the response goes
back to the client, so a killed process (even ``kill -9``) loses nothing a client was told had
succeeded; ``fsync`` runs at most once a second, so an OS crash or power cut can lose about the
last second. A line torn by a crash mid-write is cut off when the journal is next opened.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FSYNC_INTERVAL_SECONDS = 1.0


class Journal:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._file: Any = None
        self._last_fsync = 0.0
        self.appended = 0

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every complete entry, oldest first, streamed (journals can hold large S3 bodies)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if not raw.endswith(b"\n"):
                    return  # torn tail of a crash; open_for_append() cuts it off
                try:
                    yield json.loads(raw)
                except ValueError as err:
                    raise ValueError(f"{self.path}:{number}: unreadable journal entry ({err})") from None

    def open_for_append(self) -> None:
        self._cut_torn_tail()
        # Owner-only: the journal holds everything the stack stored, secrets included.
        self._file = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "ab")

    def append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":")).encode() + b"\n"
        with self._lock:
            if self._file is None:
                raise RuntimeError("journal is closed")
            self._file.write(line)
            self._file.flush()
            self.appended += 1
            now = time.monotonic()
            if now - self._last_fsync >= FSYNC_INTERVAL_SECONDS:
                os.fsync(self._file.fileno())
                self._last_fsync = now

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None

    def _cut_torn_tail(self) -> None:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb+") as f:
            end = f.seek(0, os.SEEK_END)
            position = end
            while position > 0:
                start = max(0, position - 65536)
                f.seek(start)
                chunk = f.read(position - start)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    keep = start + newline + 1
                    break
                position = start
            else:
                keep = 0
            if keep != end:
                f.truncate(keep)
