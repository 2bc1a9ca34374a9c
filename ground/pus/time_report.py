"""PUS service 9, time management: TM(9,2) carries the onboard time as a CUC field
(protocols/pus_9_time.py)."""

from __future__ import annotations

from typing import Any

from ground.pus import report, tc
from protocols import pus_9_time

REQUEST, REPORT = tc("time_report"), report(pus_9_time)


def decode_report(data: bytes) -> dict[str, Any]:
    return {"obt_s": pus_9_time.decode_report(data)}
