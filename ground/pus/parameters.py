"""PUS service 20, parameter management: TM(20,2) is a count and (id, value) entries
(protocols/pus_20_param.py), named by the dictionary's PARAMS."""

from __future__ import annotations

from typing import Any

from flight.dictionary import PARAMS
from ground.pus import report, tc
from protocols import pus_20_param

GET, SET, REPORT = tc("param_get"), tc("param_set"), report(pus_20_param)


def decode_report(data: bytes) -> dict[str, Any]:
    _count, got = pus_20_param.decode_report(data)
    return {
        "params": [
            {"id": pid, "name": PARAMS[pid][0] if pid in PARAMS else None, "value": v} for pid, v in got
        ]
    }
