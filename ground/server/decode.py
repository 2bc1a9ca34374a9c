"""Every downlinked PUS packet as JSON-ready data, from the flight dictionary (the single source).

    decode_tm(tm) -> {"type": "TM(20,2)", "params": [{"id": 11, "name": "comms.beacon_s", "value": 60.0}]}

`REPLY_TO` says which TM answers which TC (`REPLY_EVENT`: which event answers a command), so the
server can hand a command its reply.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from flight.dictionary import PLAYBACK_DEST
from ground.dictionary import ReportError
from ground.pus import (
    EVENT_REPORTING,
    LARGE_PACKET_TRANSFER,
    VERIFICATION,
    Kind,
    events,
    housekeeping,
    parameters,
    ping,
    scheduling,
    storage,
    time_report,
    verification,
)
from protocols import pus_13_large_packet
from protocols.cuc import CucTime
from protocols.errors import DecodeError
from protocols.pus import PusTm

# TC kind -> the TM kind that carries its answer
REPLY_TO: dict[tuple[int, int], Kind] = {
    ping.PING: ping.PONG,
    housekeeping.ONE_SHOT: housekeeping.REPORT,
    parameters.GET: parameters.REPORT,
    parameters.SET: parameters.REPORT,
    scheduling.LIST: scheduling.REPORT,
    storage.SUMMARY: storage.REPORT,
    time_report.REQUEST: time_report.REPORT,
}
# commands answered by an event: thruster_arm's reply is the ARM_PENDING event with its token
REPLY_EVENT: dict[str, str] = {"thruster_arm": "ARM_PENDING"}
# a report's decoder by its kind (services 1 and 5 by service: the subtype is the stage or severity)
REPORTS: dict[tuple[int, int], Callable[[bytes], dict[str, Any]]] = {
    housekeeping.REPORT: housekeeping.decode_report,
    ping.PONG: ping.decode_pong,
    parameters.REPORT: parameters.decode_report,
    scheduling.REPORT: scheduling.decode_report,
    storage.REPORT: storage.decode_report,
    time_report.REPORT: time_report.decode_report,
}


def onboard_time(tm: PusTm) -> float | None:
    try:
        return CucTime.unpack(tm.timestamp).seconds() if tm.timestamp else None
    except Exception:  # a malformed timestamp: the packet is still archived
        return None


def decode_tm(tm: PusTm) -> dict[str, Any]:
    """The packet's content by the dictionary; unknown or malformed content stays as hex."""
    kind = Kind(tm.service, tm.subtype)
    out: dict[str, Any] = {"type": str(kind)}
    if tm.dest_id >= PLAYBACK_DEST:  # played back from an onboard store, made at its own time
        out["playback"] = tm.dest_id - PLAYBACK_DEST
    data = tm.source_data
    try:
        if tm.service == VERIFICATION:
            out.update(verification.decode(tm.subtype, data))
        elif tm.service == EVENT_REPORTING:
            out.update(events.decode(tm.subtype, data))
        elif kind in REPORTS:
            out.update(REPORTS[kind](data))
        elif tm.service == LARGE_PACKET_TRANSFER:  # a part of a payload file: its place, and its bytes as hex
            tid, number, chunk = pus_13_large_packet.decode_part(data)
            last = tm.subtype == pus_13_large_packet.LAST
            out.update({"part": {"transaction": tid, "number": number, "last": last}, "hex": chunk.hex()})
        else:
            out["hex"] = data.hex()
    except (ReportError, DecodeError, struct.error, IndexError, ValueError) as exc:
        out.update({"hex": data.hex(), "decode_error": str(exc)})
    return out
