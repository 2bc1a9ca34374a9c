"""PUS service 17, test: a ping (TC(17,1)) answered by TM(17,2), which carries nothing."""

from __future__ import annotations

from typing import Any

from ground.pus import tc, tm

PING, PONG = tc("ping"), tm("pong")


def decode_pong(data: bytes) -> dict[str, Any]:
    return {"pong": True}
