"""PUS service 1, request verification: the reports of each stage, success or failure.

Source data: the request id (packet id, packet sequence control), then in a failure report the
failure code (u16), a reason byte (0: none named) and the board's short text."""

from __future__ import annotations

import struct
from typing import Any

from ground.dictionary import failure_name, failure_notice, failure_text, reason_name, reason_text
from ground.pus import VERIFICATION, Kind

ACCEPTED, ACCEPTANCE_FAILED = 1, 2
STARTED, START_FAILED = 3, 4
PROGRESS, PROGRESS_FAILED = 5, 6
COMPLETED, COMPLETION_FAILED = 7, 8
REQUEST = 128  # TC(1,128): repeat a recent command's reports (this mission's own subtype)
QUERY = Kind(VERIFICATION, REQUEST)
STAGES = {
    ACCEPTED: "accepted",
    ACCEPTANCE_FAILED: "acceptance failed",
    STARTED: "started",
    START_FAILED: "start failed",
    PROGRESS: "progress",
    PROGRESS_FAILED: "progress failed",
    COMPLETED: "completed",
    COMPLETION_FAILED: "completion failed",
}


def is_failure(subtype: int) -> bool:
    return subtype % 2 == 0


def request_id(data: bytes) -> tuple[int, int] | None:
    """(APID, sequence count) of the request a report is about; None if the data is too short."""
    if len(data) < 4:
        return None
    pid, psc = struct.unpack_from(">HH", data)
    return pid & 0x7FF, psc & 0x3FFF


def decode(subtype: int, data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"stage": STAGES.get(subtype, "subtype %d" % subtype)}
    req = request_id(data)
    if req is not None:
        out["request"] = {"apid": req[0], "seq": req[1]}
    if is_failure(subtype) and len(data) >= 6:
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
