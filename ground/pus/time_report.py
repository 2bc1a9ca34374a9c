"""PUS service 9, time management: TM(9,2) carries the onboard time as a CUC field."""

from __future__ import annotations

from typing import Any

from ground.pus import tc, tm
from protocols.cuc import CucTime

REQUEST, REPORT = tc("time_report"), tm("time")


def decode_report(data: bytes) -> dict[str, Any]:
    return {"obt_s": CucTime.unpack(data).seconds()}
