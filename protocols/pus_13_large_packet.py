"""PUS service 13, large packet transfer (ECSS-E-ST-70-41C 6.13), downlink: a file too long for
one packet goes down in parts, TM(13,1) the first, TM(13,2) each one between, TM(13,3) the last.
Source data: the transaction id (u16, here the file's serial), the part's number (u16, from 1),
then the part's octets.

    subtype = part_subtype(offset, last)
    data = encode_part(tid, number, chunk)
    tid, number, chunk = decode_part(data)
"""

import struct

from protocols.errors import TruncatedError

SERVICE = 13
FIRST = 1
INTERMEDIATE = 2
LAST = 3


def part_subtype(first, last):
    return LAST if last else (FIRST if first else INTERMEDIATE)


def encode_part(tid, number, chunk):
    return struct.pack(">HH", tid, number) + chunk


def decode_part(data):
    if len(data) < 4:
        raise TruncatedError("pus13.part_header", 0, 4, len(data))
    tid, number = struct.unpack_from(">HH", data)
    return tid, number, bytes(data[4:])
