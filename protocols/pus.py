"""ECSS-E-ST-70-41C (PUS-C) telecommand and telemetry packets over CCSDS space packets.

TC data field header (5 bytes): PUS version (4 bits, 2) | acknowledgement flags (4)
  | service type (8) | message subtype (8) | source ID (16).
TM data field header (7 bytes + time): PUS version (4, 2) | spacecraft time reference
  status (4) | service type | message subtype | message type counter (16)
  | destination ID (16) | time (mission-fixed length; here a CUC field, see cuc.py).
Both end with the optional packet error control: CRC-16-CCITT over the whole packet.
"""

import struct

from protocols import spacepacket as sp
from protocols._lazy import forward
from protocols.crc import crc16
from protocols.errors import CrcError, EncodeError, TruncatedError, VersionError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

PUS_VERSION_C = 2
TC_HEADER_LEN = 5
TM_HEADER_LEN = 7
ACK_ACCEPTANCE = 0b0001
ACK_START = 0b0010
ACK_PROGRESS = 0b0100
ACK_COMPLETION = 0b1000
ACK_ALL = 0b1111

# offsets in the data field header (TC and TM alike up to the subtype; pus_tm.py has the TM's rest)
_VERSION = const(0)  # PUS version (4) | TC acknowledgement flags or TM time reference status (4)
_SERVICE = const(1)
_SUBTYPE = const(2)
_SOURCE_ID = const(3)  # TC: source ID (16)


def _byte(field, value):
    if not 0 <= value <= 0xFF:
        raise EncodeError(field, "out of range 0..255: %r" % (value,))


def _u16(field, value):
    if not 0 <= value <= 0xFFFF:
        raise EncodeError(field, "out of range 0..65535: %r" % (value,))


def _check_tm(service, subtype, msg_counter, dest_id, time_ref):
    _byte("pus.tm.service", service)
    _byte("pus.tm.subtype", subtype)
    _u16("pus.tm.msg_counter", msg_counter)
    _u16("pus.tm.dest_id", dest_id)
    if not 0 <= time_ref <= 0xF:
        raise EncodeError("pus.tm.time_ref", "out of range 0..15: %r" % (time_ref,))


def pack_tm(
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
    """A PUS-C TM packet's bytes (a bytearray) built in one buffer, without a PusTm object: what
    a board emits for every report (PusTm.pack is this, as bytes)."""
    _check_tm(service, subtype, msg_counter, dest_id, time_ref)
    nt = len(timestamp)
    nd = len(source_data)
    n = sp.HEADER_LEN + TM_HEADER_LEN + nt + nd + (2 if has_crc else 0)
    buf = bytearray(n)
    sp.pack_header_into(buf, 0, sp.TM, True, apid, seq_flags, seq_count, n - sp.HEADER_LEN)
    struct.pack_into(
        ">BBBHH", buf, sp.HEADER_LEN, (PUS_VERSION_C << 4) | time_ref, service, subtype, msg_counter, dest_id
    )
    pos = sp.HEADER_LEN + TM_HEADER_LEN
    buf[pos : pos + nt] = timestamp
    buf[pos + nt : pos + nt + nd] = source_data
    if has_crc:
        c = crc16(memoryview(buf)[: n - 2])
        buf[n - 2] = c >> 8
        buf[n - 1] = c & 0xFF
    return buf


def pack_entries(fmt, rows):
    """A report's source data that lists entries: the count (1 octet), then each row packed in
    struct `fmt` (the layout of PUS-11, -15 and -20 reports; pus_tm.unpack_entries reads it)."""
    out = bytearray((len(rows),))
    for row in rows:
        out += struct.pack(fmt, *row)
    return bytes(out)


def _split(data, has_crc, kind):
    """(the space packet's spacepacket.Header, its data field without the CRC) with the CRC
    verified."""
    hdr = sp.unpack_header(data)
    dlen = hdr.data_len
    end = sp.HEADER_LEN + dlen
    if len(data) < end:
        raise TruncatedError(kind + ".data", sp.HEADER_LEN, dlen, len(data) - sp.HEADER_LEN)
    if has_crc:
        if dlen < 2:
            raise TruncatedError(kind + ".crc", sp.HEADER_LEN, 2, dlen)
        got = (data[end - 2] << 8) | data[end - 1]
        want = crc16(memoryview(data)[: end - 2])
        if got != want:
            raise CrcError(kind + ".crc", end - 2, want, got)
        end -= 2
    return hdr, memoryview(data)[sp.HEADER_LEN : end]


class PusTc:
    """A PUS-C telecommand."""

    def __init__(
        self,
        service,
        subtype,
        app_data=b"",
        apid=0,
        seq_count=0,
        source_id=0,
        ack_flags=ACK_ALL,
        has_crc=True,
        seq_flags=sp.SEQ_UNSEGMENTED,
    ):
        _byte("pus.tc.service", service)
        _byte("pus.tc.subtype", subtype)
        _u16("pus.tc.source_id", source_id)
        if not 0 <= ack_flags <= 0xF:
            raise EncodeError("pus.tc.ack_flags", "out of range 0..15: %r" % (ack_flags,))
        self.service = service
        self.subtype = subtype
        self.app_data = bytes(app_data)
        self.apid = apid
        self.seq_count = seq_count
        self.source_id = source_id
        self.ack_flags = ack_flags
        self.has_crc = has_crc
        self.seq_flags = seq_flags

    def __eq__(self, other):
        return isinstance(other, PusTc) and self.pack() == other.pack()

    def __repr__(self):
        return "PusTc(%d,%d apid=0x%03X seq=%d src=%d %d bytes)" % (
            self.service,
            self.subtype,
            self.apid,
            self.seq_count,
            self.source_id,
            len(self.app_data),
        )

    def packet_len(self):
        return sp.HEADER_LEN + TC_HEADER_LEN + len(self.app_data) + (2 if self.has_crc else 0)

    def pack(self):
        n = self.packet_len()
        buf = bytearray(n)
        sp.pack_header_into(buf, 0, sp.TC, True, self.apid, self.seq_flags, self.seq_count, n - sp.HEADER_LEN)
        struct.pack_into(
            ">BBBH",
            buf,
            sp.HEADER_LEN,
            (PUS_VERSION_C << 4) | self.ack_flags,
            self.service,
            self.subtype,
            self.source_id,
        )
        start = sp.HEADER_LEN + TC_HEADER_LEN
        buf[start : start + len(self.app_data)] = self.app_data
        if self.has_crc:
            c = crc16(memoryview(buf)[: n - 2])
            buf[n - 2] = c >> 8
            buf[n - 1] = c & 0xFF
        return bytes(buf)

    def request_id(self):
        """(packet id, sequence control) words that PUS-1 reports quote back."""
        return (0x1800 | self.apid, (self.seq_flags << 14) | self.seq_count)

    @classmethod
    def unpack(cls, data, has_crc=True):
        hdr, body = _split(data, has_crc, "pus.tc")
        if hdr.ptype != sp.TC:
            raise VersionError("pus.tc.packet_type", 0, sp.TC, hdr.ptype)
        if len(body) < TC_HEADER_LEN:
            raise TruncatedError("pus.tc.header", sp.HEADER_LEN, TC_HEADER_LEN, len(body))
        version = body[_VERSION] >> 4
        if version != PUS_VERSION_C:
            raise VersionError("pus.tc.version", sp.HEADER_LEN, PUS_VERSION_C, version)
        source_id = (body[_SOURCE_ID] << 8) | body[_SOURCE_ID + 1]
        return cls(
            body[_SERVICE],
            body[_SUBTYPE],
            bytes(body[TC_HEADER_LEN:]),
            hdr.apid,
            hdr.seq_count,
            source_id,
            body[_VERSION] & 0xF,
            has_crc,
            hdr.seq_flags,
        )


# the TM packet object, the ground's decoder (a board builds its reports with pack_tm), on first use
__getattr__ = forward("protocols.pus", "protocols.pus_tm", ("PusTm",))
