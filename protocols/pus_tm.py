"""PUS-C telemetry packets as objects: the ground's decoder and the tests' builder.

A board builds its reports with `pus.pack_tm` and never loads this module (its bytecode and
names would be heap there); `pus.PusTm` still reaches the class, imported on first use.
"""

import struct

from protocols import spacepacket as sp
from protocols.errors import TruncatedError, VersionError
from protocols.pus import PUS_VERSION_C, TM_HEADER_LEN, _check_tm, _split, pack_tm

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

# offsets in the TM data field header (pus.py's own are private consts, which MicroPython folds
# away: another module cannot import them)
_VERSION = const(0)  # PUS version (4) | spacecraft time reference status (4)
_SERVICE = const(1)
_SUBTYPE = const(2)
_MSG_COUNTER = const(3)  # message type counter (16), then the destination ID (16)


class PusTm:
    """A PUS-C telemetry packet; `timestamp` is the packed time field (bytes) of fixed length."""

    def __init__(
        self,
        service,
        subtype,
        source_data=b"",
        apid=0,
        seq_count=0,
        msg_counter=0,
        dest_id=0,
        timestamp=b"",
        time_ref=0,
        has_crc=True,
        seq_flags=sp.SEQ_UNSEGMENTED,
    ):
        _check_tm(service, subtype, msg_counter, dest_id, time_ref)
        self.service = service
        self.subtype = subtype
        self.source_data = bytes(source_data)
        self.apid = apid
        self.seq_count = seq_count
        self.msg_counter = msg_counter
        self.dest_id = dest_id
        self.timestamp = bytes(timestamp)
        self.time_ref = time_ref
        self.has_crc = has_crc
        self.seq_flags = seq_flags

    def __eq__(self, other):
        return isinstance(other, PusTm) and self.pack() == other.pack()

    def __repr__(self):
        return "PusTm(%d,%d apid=0x%03X seq=%d %d bytes)" % (
            self.service,
            self.subtype,
            self.apid,
            self.seq_count,
            len(self.source_data),
        )

    def packet_len(self):
        return (
            sp.HEADER_LEN
            + TM_HEADER_LEN
            + len(self.timestamp)
            + len(self.source_data)
            + (2 if self.has_crc else 0)
        )

    def pack(self):
        return bytes(
            pack_tm(
                self.service,
                self.subtype,
                self.source_data,
                self.apid,
                self.seq_count,
                self.msg_counter,
                self.dest_id,
                self.timestamp,
                self.time_ref,
                self.has_crc,
                self.seq_flags,
            )
        )

    @classmethod
    def unpack(cls, data, timestamp_len=6, has_crc=True):
        hdr, body = _split(data, has_crc, "pus.tm")
        if hdr.ptype != sp.TM:
            raise VersionError("pus.tm.packet_type", 0, sp.TM, hdr.ptype)
        need = TM_HEADER_LEN + timestamp_len
        if len(body) < need:
            raise TruncatedError("pus.tm.header", sp.HEADER_LEN, need, len(body))
        version = body[_VERSION] >> 4
        if version != PUS_VERSION_C:
            raise VersionError("pus.tm.version", sp.HEADER_LEN, PUS_VERSION_C, version)
        msg_counter, dest_id = struct.unpack_from(">HH", body, _MSG_COUNTER)
        return cls(
            body[_SERVICE],
            body[_SUBTYPE],
            bytes(body[need:]),
            hdr.apid,
            hdr.seq_count,
            msg_counter,
            dest_id,
            bytes(body[TM_HEADER_LEN:need]),
            body[_VERSION] & 0xF,
            has_crc,
            hdr.seq_flags,
        )


def unpack_entries(data, fmt):
    """(count, [entry tuple, ...]) of a report that lists entries (pus.pack_entries): the count
    octet, then `count` entries in struct `fmt`. A truncated report gives the entries that are
    whole; the count says how many were sent."""
    count = data[0] if data else 0
    size = struct.calcsize(fmt)
    whole = min(count, max(0, len(data) - 1) // size)
    return count, [struct.unpack_from(fmt, data, 1 + size * i) for i in range(whole)]
