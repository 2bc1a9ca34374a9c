"""Every downlinked PUS packet as JSON-ready data, from the flight dictionary (the single source).

    decode_tm(tm) -> {"type": "TM(20,2)", "params": [{"id": 11, "name": "comms.beacon_s", "value": 60.0}]}

`REPLY_TO` says which TM answers which TC (`REPLY_EVENT`: which event answers a command), so the
server can hand a command its reply.
"""

from __future__ import annotations

import struct
from typing import Any

from flight import events as flight_events
from flight.dictionary import EVENTS, HK_SETS, PACKET_STORES, PARAMS, PLAYBACK_DEST
from ground.dictionary import (
    PARAM_ENTRY,
    SCHEDULE_ENTRY,
    STORE_ENTRY,
    CommandError,
    decode_hk,
    failure_name,
    failure_notice,
    failure_text,
    reason_name,
    reason_text,
)
from ground.terminal import VERIFICATION_STAGES, event_text
from protocols.cuc import CucTime
from protocols.pus import PusTm

# TC (service, subtype) -> the TM (service, subtype) that carries its answer
REPLY_TO: dict[tuple[int, int], tuple[int, int]] = {
    (17, 1): (17, 2),
    (3, 27): (3, 25),
    (20, 1): (20, 2),
    (20, 3): (20, 2),
    (11, 17): (11, 13),
    (15, 12): (15, 13),
    (9, 1): (9, 2),
}
# commands answered by an event: thruster_arm's reply is the ARM_PENDING event with its token
REPLY_EVENT: dict[str, str] = {"thruster_arm": "ARM_PENDING"}


def onboard_time(tm: PusTm) -> float | None:
    try:
        return CucTime.unpack(tm.timestamp).seconds() if tm.timestamp else None
    except Exception:  # a malformed timestamp: the packet is still archived
        return None


def _verification(data: bytes, subtype: int) -> dict[str, Any]:
    out: dict[str, Any] = {"stage": VERIFICATION_STAGES.get(subtype, "subtype %d" % subtype)}
    if len(data) >= 4:
        pid, psc = struct.unpack_from(">HH", data)
        out["request"] = {"apid": pid & 0x7FF, "seq": psc & 0x3FFF}
    if subtype % 2 == 0 and len(data) >= 6:
        code, reason, detail = failure_notice(data)
        out["failure"] = {
            "code": code,
            "name": failure_name(code),
            "text": failure_text(code),
            "detail": detail,
            # which check refused (None: an older board that does not say)
            "reason": reason,
            "reason_name": reason_name(reason),
            "reason_text": reason_text(reason),
        }
    return out


def _entries(data: bytes, fmt: str) -> tuple[int, list[tuple]]:
    """(count, entries) of a report that is a count byte and then `count` entries in struct `fmt`
    (a truncated report gives the entries that are whole)."""
    count = data[0] if data else 0
    size = struct.calcsize(fmt)
    whole = min(count, max(0, len(data) - 1) // size)
    return count, [struct.unpack_from(fmt, data, 1 + size * i) for i in range(whole)]


def _params(data: bytes) -> dict[str, Any]:
    _count, entries = _entries(data, PARAM_ENTRY)
    return {
        "params": [
            {"id": pid, "name": PARAMS[pid][0] if pid in PARAMS else None, "value": value}
            for pid, value in entries
        ]
    }


_SCHEDULE_FMT = ">" + "".join(fmt for _name, fmt in SCHEDULE_ENTRY)
_STORE_FMT = ">" + "".join(fmt for _name, fmt in STORE_ENTRY)


def _schedule(data: bytes) -> dict[str, Any]:
    count, entries = _entries(data, _SCHEDULE_FMT)
    return {"count": count, "entries": [{"release_s": r, "apid": a, "seq": q} for r, a, q in entries]}


def _stores(data: bytes) -> dict[str, Any]:
    stores = []
    for values in _entries(data, _STORE_FMT)[1]:
        entry = dict(zip((name for name, _fmt in STORE_ENTRY), values))
        entry["name"] = PACKET_STORES[entry["store"]][0] if entry["store"] in PACKET_STORES else None
        stores.append(entry)
    return {"stores": stores}


def decode_tm(tm: PusTm) -> dict[str, Any]:
    """The packet's content by the dictionary; unknown or malformed content stays as hex."""
    kind = (tm.service, tm.subtype)
    out: dict[str, Any] = {"type": "TM(%d,%d)" % kind}
    if tm.dest_id >= PLAYBACK_DEST:  # played back from an onboard store, made at its own time
        out["playback"] = tm.dest_id - PLAYBACK_DEST
    data = tm.source_data
    try:
        if tm.service == 1:
            out.update(_verification(data, tm.subtype))
        elif kind == (3, 25):
            sid, values = decode_hk(data)
            out.update(
                {"sid": sid, "set": HK_SETS[sid][0], "values": {k: float(v) for k, v in values.items()}}
            )
        elif tm.service == 5:
            name, aux = flight_events.decode(data)
            out.update({"event": name, "severity": tm.subtype, "args": aux, "text": event_text(name, aux)})
            if name in EVENTS:
                out["description"] = EVENTS[name][4]
        elif kind == (17, 2):
            out["pong"] = True
        elif kind == (20, 2):
            out.update(_params(data))
        elif kind == (11, 13):
            out.update(_schedule(data))
        elif kind == (15, 13):
            out.update(_stores(data))
        elif kind == (9, 2):
            out["obt_s"] = CucTime.unpack(data).seconds()
        else:
            out["hex"] = data.hex()
    except (CommandError, struct.error, IndexError, ValueError) as exc:
        out.update({"hex": data.hex(), "decode_error": str(exc)})
    return out
