"""PUS service 8, function management (ECSS-E-ST-70-41C 6.8): TC(8,1) performs a function. Its
application data is the function id (u16), then the function's arguments (this mission's
functions and their arguments: flight/dictionary.py COMMANDS; the dispatcher routes by the id).

    app_data = encode_request(10, args)
    fid, args = decode_request(app_data)
"""

import struct

from protocols.errors import TruncatedError

SERVICE = 8
PERFORM = 1  # TC(8,1)


def encode_request(fid, args=b""):
    return struct.pack(">H", fid) + bytes(args)


def decode_request(app_data):
    """(function id, the arguments' octets) of a TC(8,1)'s application data."""
    if len(app_data) < 2:
        raise TruncatedError("pus8.function_id", 0, 2, len(app_data))
    return struct.unpack_from(">H", app_data)[0], bytes(app_data[2:])
