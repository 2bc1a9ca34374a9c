"""PUS service 3, housekeeping: periodic and one-shot reports of the dictionary's sets
(the wire format: protocols/pus_3_hk.py)."""

from __future__ import annotations

from typing import Any

from flight.dictionary import HK_SETS
from ground.dictionary import decode_hk
from ground.pus import report, tc
from protocols import pus_3_hk

ENABLE, DISABLE, ONE_SHOT = tc("hk_enable"), tc("hk_disable"), tc("hk_oneshot")
REPORT = report(pus_3_hk)


def decode_report(data: bytes) -> dict[str, Any]:
    """{"sid", "set", "values"} of a TM(3,25); ReportError for a set or length the dictionary lacks."""
    sid, values = decode_hk(data)
    return {"sid": sid, "set": HK_SETS[sid][0], "values": {k: float(v) for k, v in values.items()}}
