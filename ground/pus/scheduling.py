"""PUS service 11, time-based scheduling: TM(11,13) lists the scheduled requests
(protocols/pus_11_schedule.py)."""

from __future__ import annotations

from typing import Any

from ground.pus import report, tc
from protocols import pus_11_schedule

LIST, REPORT = tc("schedule_list"), report(pus_11_schedule)


def decode_report(data: bytes) -> dict[str, Any]:
    count, got = pus_11_schedule.decode_report(data)
    return {"count": count, "entries": [{"release_s": r, "apid": a, "seq": q} for r, a, q in got]}
