"""PUS service 1, request verification: the reports of each stage, success or failure
(protocols/pus_1_verification.py), their failure codes and reasons named by the dictionary.

Source data: the request id (packet id, packet sequence control), then in a failure report the
failure code (u16), a reason byte (0: none named) and the board's short text."""

from __future__ import annotations

from typing import Any

from ground.dictionary import failure_name, failure_text, reason_name, reason_text
from ground.pus import Kind
from protocols import pus_1_verification as codec
from protocols.errors import DecodeError
from protocols.pus_1_verification import (  # noqa: F401 - the stages by name, for the ground
    ACCEPTANCE_FAILED,
    ACCEPTED,
    COMPLETED,
    COMPLETION_FAILED,
    PROGRESS,
    PROGRESS_FAILED,
    START_FAILED,
    STARTED,
)

QUERY = Kind(codec.SERVICE, codec.QUERY)
STAGES = {
    codec.ACCEPTED: "accepted",
    codec.ACCEPTANCE_FAILED: "acceptance failed",
    codec.STARTED: "started",
    codec.START_FAILED: "start failed",
    codec.PROGRESS: "progress",
    codec.PROGRESS_FAILED: "progress failed",
    codec.COMPLETED: "completed",
    codec.COMPLETION_FAILED: "completion failed",
}
is_failure = codec.is_failure


def request_id(data: bytes) -> tuple[int, int] | None:
    """(APID, sequence count) of the request a report is about; None if the data is too short."""
    try:
        return codec.decode_report(data)[:2]
    except DecodeError:
        return None


def decode(subtype: int, data: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"stage": STAGES.get(subtype, "subtype %d" % subtype)}
    try:
        apid, seq, code, reason, detail = codec.decode_report(data)
    except DecodeError:
        return out
    out["request"] = {"apid": apid, "seq": seq}
    if is_failure(subtype) and code is not None:
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
