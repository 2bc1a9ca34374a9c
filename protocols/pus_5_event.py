"""PUS service 5, event reporting (ECSS-E-ST-70-41C 6.5): TM(5, severity) carries an event: its
id (u16), then its auxiliary data in the struct format of the event's definition (this mission's
events: flight/dictionary_tm.py EVENTS); TC(5,5) and TC(5,6) enable and disable an event's report.

    data = encode_report(event_id, ">BBB", (1, 3, 0))
    event_id, aux = decode_report(data, formats)    # formats: {event id: its aux format}
"""

import struct

from protocols.errors import TruncatedError

SERVICE = 5
INFO = 1  # TM(5,1) .. TM(5,4): the subtype is the event's severity
LOW = 2
MEDIUM = 3
HIGH = 4
ENABLE = 5  # TC(5,5)
DISABLE = 6  # TC(5,6)


def encode_report(event_id, fmt, aux):
    return struct.pack(">H", event_id) + struct.pack(fmt, *aux)


def decode_report(data, formats):
    """(event id, aux values tuple) of a TM(5,x)'s source data; aux None for an event id `formats`
    does not have."""
    if len(data) < 2:
        raise TruncatedError("pus5.event_id", 0, 2, len(data))
    event_id = struct.unpack_from(">H", data)[0]
    fmt = formats.get(event_id)
    if fmt is None:
        return event_id, None
    size = struct.calcsize(fmt)
    if len(data) - 2 < size:
        raise TruncatedError("pus5.aux", 2, size, len(data) - 2)
    return event_id, struct.unpack_from(fmt, data, 2)
