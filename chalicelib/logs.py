"""Structured JSON logs; every line carries the request ID of the request being served."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_logger: logging.Logger | None = None


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": request_id_var.get(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def logger() -> logging.Logger:
    global _logger
    if _logger is None:
        from chalicelib.config import settings

        _logger = logging.getLogger("mds")
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(_JsonFormatter())
        _logger.handlers[:] = [handler]
        _logger.propagate = False
        _logger.setLevel(settings().log_level)
    return _logger


def log(level: int, message: str, **fields: Any) -> None:
    logger().log(level, message, extra={"fields": fields})
