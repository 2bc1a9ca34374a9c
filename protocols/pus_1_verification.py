"""PUS service 1, request verification (ECSS-E-ST-70-41C 6.1): a report per stage of a request.

Source data: the request id (the request's packet id and packet sequence control, 4 octets), then
in a failure report the failure notice: the code (u16), a reason octet (0: none named; this
mission's reasons are below 32) and the board's short text (at most TEXT_MAX octets).

    data = encode_report(req_id, code, reason, "out of range")    # req_id: 4 octets
    apid, seq, code, reason, text = decode_report(data)              # code None: a success
"""

import struct

from protocols.errors import TruncatedError

SERVICE = 1
ACCEPTED = 1
ACCEPTANCE_FAILED = 2
STARTED = 3
START_FAILED = 4
PROGRESS = 5
PROGRESS_FAILED = 6
COMPLETED = 7
COMPLETION_FAILED = 8
QUERY = 128  # TC(1,128): report a recent request's stages again (this mission's own subtype)
TEXT_MAX = 48


def is_failure(subtype):
    return subtype % 2 == 0


def encode_report(req_id, code=None, reason=0, text=""):
    """A stage report's source data; with `code`, a failure report's."""
    if code is None:
        return bytes(req_id)
    return bytes(req_id) + struct.pack(">HB", code, reason) + text.encode()[:TEXT_MAX]


def decode_report(data):
    """(apid, sequence count, failure code or None, reason or None, text) of a report's source
    data. A report from an older board carries its text right after the code, without a reason
    octet: the text's first octet is printable, a reason never is, so its reason is None."""
    if len(data) < 4:
        raise TruncatedError("pus1.request_id", 0, 4, len(data))
    pid, psc = struct.unpack_from(">HH", data)
    if len(data) < 6:
        return pid & 0x7FF, psc & 0x3FFF, None, None, ""
    code = struct.unpack_from(">H", data, 4)[0]
    if len(data) > 6 and data[6] < 0x20:
        return pid & 0x7FF, psc & 0x3FFF, code, data[6], bytes(data[7:]).decode("utf-8", "replace")
    return pid & 0x7FF, psc & 0x3FFF, code, None, bytes(data[6:]).decode("utf-8", "replace")
