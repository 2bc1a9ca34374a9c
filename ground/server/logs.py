"""Structured logs: one JSON object per line (time, level, logger, message and the record's fields)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "t": round(record.created, 6),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + ".%03dZ" % record.msecs,
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update({k: v for k, v in fields.items() if k not in out})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup_logging(log_file: str | None, verbose: bool = False) -> logging.Handler | None:
    """JSON lines to `log_file` (if given) for the cubesat.* and uvicorn loggers."""
    if log_file is None:
        return None
    handler = logging.FileHandler(log_file)
    handler.setFormatter(JsonLines())
    level = logging.DEBUG if verbose else logging.INFO
    for name in ("cubesat", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.addHandler(handler)
        lg.setLevel(level)
    return handler


def remove_logging(handler: logging.Handler | None) -> None:
    if handler is None:
        return
    for name in ("cubesat", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).removeHandler(handler)
    handler.close()
