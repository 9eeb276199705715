"""One JSON object per line on stderr, like the Lambda functions' CloudWatch lines."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

_write_lock = threading.Lock()


def log_event(component: str, event: str, *, level: str = "info", **fields: Any) -> None:
    line = json.dumps(
        {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "level": level, "component": component, "event": event,
         **fields},
        default=str,
    )  # fmt: skip
    with _write_lock:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
