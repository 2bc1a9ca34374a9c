"""PUS service 20, parameter management: TM(20,2) is a count and (id, value) entries."""

from __future__ import annotations

from typing import Any

from flight.dictionary import PARAMS
from ground.pus import entries, entry, tc, tm

GET, SET, REPORT = tc("param_get"), tc("param_set"), tm("parameters")
ENTRY = entry("parameters")[0]


def decode_report(data: bytes) -> dict[str, Any]:
    _count, got = entries(data, ENTRY)
    return {
        "params": [
            {"id": pid, "name": PARAMS[pid][0] if pid in PARAMS else None, "value": v} for pid, v in got
        ]
    }
