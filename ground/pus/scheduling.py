"""PUS service 11, time-based scheduling: TM(11,13) lists the scheduled requests."""

from __future__ import annotations

from typing import Any

from ground.pus import entries, entry, tc, tm

LIST, REPORT = tc("schedule_list"), tm("schedule")
ENTRY, FIELDS = entry("schedule")  # release (onboard s), apid, seq


def decode_report(data: bytes) -> dict[str, Any]:
    count, got = entries(data, ENTRY)
    return {"count": count, "entries": [{"release_s": r, "apid": a, "seq": q} for r, a, q in got]}
