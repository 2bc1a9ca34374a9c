"""PUS service 17, test: a ping (TC(17,1)) answered by TM(17,2), which carries nothing."""

from __future__ import annotations

from typing import Any

from ground.pus import TEST, Kind

PING, PONG = Kind(TEST, 1), Kind(TEST, 2)


def decode_pong(data: bytes) -> dict[str, Any]:
    return {"pong": True}
