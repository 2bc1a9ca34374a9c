"""PUS service 3, housekeeping: periodic and one-shot reports of the dictionary's sets."""

from __future__ import annotations

from typing import Any

from flight.dictionary import HK_SETS
from ground.dictionary import decode_hk
from ground.pus import HOUSEKEEPING, Kind

ENABLE, DISABLE = 5, 6
REPORT = Kind(HOUSEKEEPING, 25)
ONE_SHOT = Kind(HOUSEKEEPING, 27)


def decode_report(data: bytes) -> dict[str, Any]:
    """{"sid", "set", "values"} of a TM(3,25); ReportError for a set or length the dictionary lacks."""
    sid, values = decode_hk(data)
    return {"sid": sid, "set": HK_SETS[sid][0], "values": {k: float(v) for k, v in values.items()}}
