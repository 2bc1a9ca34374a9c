"""PUS service 9, time management: TM(9,2) carries the onboard time as a CUC field."""

from __future__ import annotations

from typing import Any

from ground.pus import TIME_MANAGEMENT, Kind
from protocols.cuc import CucTime

REQUEST, REPORT = Kind(TIME_MANAGEMENT, 1), Kind(TIME_MANAGEMENT, 2)


def decode_report(data: bytes) -> dict[str, Any]:
    return {"obt_s": CucTime.unpack(data).seconds()}
