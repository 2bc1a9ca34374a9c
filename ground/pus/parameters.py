"""PUS service 20, parameter management: TM(20,2) is a count and (id, value) entries."""

from __future__ import annotations

from typing import Any

from flight.dictionary import PARAMS
from ground.dictionary import PARAM_ENTRY
from ground.pus import PARAMETER_MANAGEMENT, Kind, entries

GET, REPORT, SET = (Kind(PARAMETER_MANAGEMENT, n) for n in (1, 2, 3))


def decode_report(data: bytes) -> dict[str, Any]:
    _count, got = entries(data, PARAM_ENTRY)
    return {
        "params": [
            {"id": pid, "name": PARAMS[pid][0] if pid in PARAMS else None, "value": v} for pid, v in got
        ]
    }
