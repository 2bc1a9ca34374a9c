"""PUS-C services by name, one module per service that this project's ground decodes
(in the way spacepackets' ecss package names them): its kinds as named constants and the
decoder of its reports, all from the flight dictionary (the single source: a telecommand's
kind is its `COMMANDS` entry, a report's kind and entry layout its `REPORTS` entry, which the
flight packs with).

    from ground import pus
    if (tm.service, tm.subtype) == pus.housekeeping.REPORT: ...
    pus.decode(tm) -> {"type": "TM(3,25)", "sid": 1, "set": "core", "values": {...}}

`Kind` is a (service, subtype) pair with names; `REPLY_TO` says which TM answers which TC.
The flight packs these reports itself (flight/telemetry.py, flight/params.py, ...) by the same
dictionary entries: its board heap has no room for these classes.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from flight.dictionary import COMMANDS, REPORTS

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


def tc(name: str) -> Kind:
    """The kind of the dictionary's command `name`."""
    return Kind(*COMMANDS[name][:2])


def tm(name: str) -> Kind:
    """The kind of the dictionary's report `name` (flight/dictionary.py REPORTS)."""
    return Kind(*REPORTS[name][:2])


def entry(name: str) -> tuple[str, tuple[str, ...]]:
    """(struct format, field names) of each entry of the dictionary's report `name`."""
    return REPORTS[name][2], REPORTS[name][3]


def entries(data: bytes, fmt: str) -> tuple[int, list[tuple]]:
    """(count, entries) of a report that is a count byte and then `count` entries in struct `fmt`
    (a truncated report gives the entries that are whole)."""
    count = data[0] if data else 0
    size = struct.calcsize(fmt)
    whole = min(count, max(0, len(data) - 1) // size)
    return count, [struct.unpack_from(fmt, data, 1 + size * i) for i in range(whole)]
