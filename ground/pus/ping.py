"""PUS service 17, test: a ping (TC(17,1)) answered by TM(17,2), which carries nothing
(protocols/pus_17_test.py)."""

from __future__ import annotations

from typing import Any

from ground.pus import report, tc
from protocols import pus_17_test

PING, PONG = tc("ping"), report(pus_17_test)


def decode_pong(data: bytes) -> dict[str, Any]:
    return {"pong": pus_17_test.decode_report(data)}
