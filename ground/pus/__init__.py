"""PUS-C services by name, one module per service that this project's ground decodes
(in the way spacepackets' ecss package names them): its subtypes as named constants and the
decoder of its reports, laid out by the flight dictionary (the single source).

    from ground import pus
    if (tm.service, tm.subtype) == pus.housekeeping.REPORT: ...
    pus.decode(tm) -> {"type": "TM(3,25)", "sid": 1, "set": "core", "values": {...}}

`Kind` is a (service, subtype) pair with names; `REPLY_TO` says which TM answers which TC.
The flight packs these reports itself (flight/telemetry.py, flight/commands.py, ...): its board
heap has no room for a second copy of each layout, so the dictionary is what both ends share.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

# ECSS-E-ST-70-41C service type numbers this mission flies
VERIFICATION = 1
HOUSEKEEPING = 3
EVENT_REPORTING = 5
FUNCTION_MANAGEMENT = 8
TIME_MANAGEMENT = 9
TIME_SCHEDULING = 11
LARGE_PACKET_TRANSFER = 13
ON_BOARD_STORAGE = 15
TEST = 17
PARAMETER_MANAGEMENT = 20


class Kind(NamedTuple):
    service: int
    subtype: int

    def __str__(self) -> str:
        return "TM(%d,%d)" % self


def entries(data: bytes, fmt: str) -> tuple[int, list[tuple]]:
    """(count, entries) of a report that is a count byte and then `count` entries in struct `fmt`
    (a truncated report gives the entries that are whole)."""
    count = data[0] if data else 0
    size = struct.calcsize(fmt)
    whole = min(count, max(0, len(data) - 1) // size)
    return count, [struct.unpack_from(fmt, data, 1 + size * i) for i in range(whole)]
