"""PUS service 11, time-based scheduling: TM(11,13) lists the scheduled requests."""

from __future__ import annotations

from typing import Any

from ground.dictionary import SCHEDULE_ENTRY
from ground.pus import TIME_SCHEDULING, Kind, entries

LIST, REPORT = Kind(TIME_SCHEDULING, 17), Kind(TIME_SCHEDULING, 13)
_FMT = ">" + "".join(fmt for _name, fmt in SCHEDULE_ENTRY)


def decode_report(data: bytes) -> dict[str, Any]:
    count, got = entries(data, _FMT)
    return {"count": count, "entries": [{"release_s": r, "apid": a, "seq": q} for r, a, q in got]}
