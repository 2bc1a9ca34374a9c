"""PUS service 3, housekeeping (ECSS-E-ST-70-41C 6.3): the requests that switch a set's periodic
report, change its interval or ask for it now, and the report TM(3,25): the set's id (SID, 1
octet), then its values, each in the format the set's definition gives it (this mission's sets:
flight/dictionary_tm.py HK_SETS and TM_TYPES).

    buf = new_report(sid, size)                  # values packed from VALUES on (flight/telemetry.py)
    sid, values = decode_report(data, formats)   # formats: {sid: the struct format of its values}
"""

import struct

from protocols.errors import FieldValueError, LengthError, TruncatedError

SERVICE = 3
ENABLE = 5  # TC(3,5): enable a set's periodic report
DISABLE = 6  # TC(3,6)
REPORT = 25  # TM(3,25)
ONE_SHOT = 27  # TC(3,27): report a set now
INTERVAL = 31  # TC(3,31): change a set's collection interval
VALUES = 1  # offset of the first value, after the SID


def new_report(sid, size):
    """The buffer of a report of set `sid` whose values take `size` octets, its SID in place."""
    buf = bytearray(VALUES + size)
    buf[0] = sid
    return buf


def decode_report(data, formats):
    """(sid, values tuple) of a TM(3,25)'s source data; `formats` maps each known SID to the struct
    format of its values. An unknown SID or a length its format does not have raises."""
    if not data:
        raise TruncatedError("pus3.sid", 0, 1, 0)
    sid = data[0]
    fmt = formats.get(sid)
    if fmt is None:
        raise FieldValueError("pus3.sid", 0, "housekeeping set %d is not defined" % sid)
    size = struct.calcsize(fmt)
    if len(data) - VALUES != size:
        raise LengthError("pus3.values", VALUES, size, len(data) - VALUES)
    return sid, struct.unpack_from(fmt, data, VALUES)
