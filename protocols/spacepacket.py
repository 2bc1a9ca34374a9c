"""CCSDS 133.0-B-2 space packets: primary header, packing and parsing one packet.

Primary header (6 bytes, big-endian):
  version (3 bits, 000) | type (1: 0 TM, 1 TC) | secondary header flag (1) | APID (11)
  sequence flags (2)    | sequence count or packet name (14)
  packet data length (16) = number of bytes in the data field minus one

Scanning streams of concatenated packets is protocols/spacepacket_rx.py (the ground's side: a
board never loads it); spacepacket.scan_packets, PacketStream, ... import it on first use.
"""

import struct

from protocols._lazy import forward
from protocols.errors import (
    EncodeError,
    OversizedError,
    TruncatedError,
    VersionError,
)

HEADER_LEN = 6
TM = 0
TC = 1
APID_IDLE = 0x7FF
SEQ_CONTINUATION = 0
SEQ_FIRST = 1
SEQ_LAST = 2
SEQ_UNSEGMENTED = 3
MAX_DATA_LEN = 65536
MAX_STREAM_LEN = 0xFFFFFFFF  # the scanners report offsets as uint32
SEQ_COUNT_MODULO = 0x4000


def _check_range(field, value, limit):
    if not 0 <= value <= limit:
        raise EncodeError(field, "out of range 0..%d: %r" % (limit, value))


def pack_header_into(buf, offset, ptype, sec_hdr, apid, seq_flags, seq_count, data_len):
    """Write a primary header at buf[offset:offset+6]; data_len is the data field size in bytes."""
    _check_range("spacepacket.type", ptype, 1)
    _check_range("spacepacket.apid", apid, 0x7FF)
    _check_range("spacepacket.sequence_flags", seq_flags, 3)
    _check_range("spacepacket.sequence_count", seq_count, 0x3FFF)
    if not 1 <= data_len <= MAX_DATA_LEN:
        raise EncodeError("spacepacket.data_length", "data field must hold 1..65536 bytes, got %d" % data_len)
    struct.pack_into(
        ">HHH",
        buf,
        offset,
        (ptype << 12) | ((1 if sec_hdr else 0) << 11) | apid,
        (seq_flags << 14) | seq_count,
        data_len - 1,
    )


def unpack_header(data, offset=0):
    """(type, sec_hdr, apid, seq_flags, seq_count, data_len) of the header at data[offset:]."""
    if len(data) - offset < HEADER_LEN:
        raise TruncatedError("spacepacket.header", offset, HEADER_LEN, max(0, len(data) - offset))
    w0, w1, w2 = struct.unpack_from(">HHH", data, offset)
    version = w0 >> 13
    if version != 0:
        raise VersionError("spacepacket.version", offset, 0, version)
    return (w0 >> 12) & 1, (w0 >> 11) & 1, w0 & 0x7FF, w1 >> 14, w1 & 0x3FFF, w2 + 1


class SpacePacket:
    """One space packet: header fields and the data field (secondary header + user data)."""

    def __init__(self, ptype, apid, data, seq_count=0, seq_flags=SEQ_UNSEGMENTED, sec_hdr=False):
        self.ptype = ptype
        self.apid = apid
        self.data = data
        self.seq_count = seq_count
        self.seq_flags = seq_flags
        self.sec_hdr = sec_hdr

    def __eq__(self, other):
        return (
            isinstance(other, SpacePacket)
            and self.ptype == other.ptype
            and self.apid == other.apid
            and bytes(self.data) == bytes(other.data)
            and self.seq_count == other.seq_count
            and self.seq_flags == other.seq_flags
            and bool(self.sec_hdr) == bool(other.sec_hdr)
        )

    def __repr__(self):
        return "SpacePacket(type=%d, apid=0x%03X, seq=%d, flags=%d, sec_hdr=%d, %d data bytes)" % (
            self.ptype,
            self.apid,
            self.seq_count,
            self.seq_flags,
            self.sec_hdr,
            len(self.data),
        )

    def __len__(self):
        return HEADER_LEN + len(self.data)

    def pack_into(self, buf, offset=0):
        """Write the packet at buf[offset:]; returns the number of bytes written."""
        n = len(self.data)
        if len(buf) - offset < HEADER_LEN + n:
            raise EncodeError(
                "spacepacket.buffer", "needs %d bytes, has %d" % (HEADER_LEN + n, len(buf) - offset)
            )
        pack_header_into(buf, offset, self.ptype, self.sec_hdr, self.apid, self.seq_flags, self.seq_count, n)
        buf[offset + HEADER_LEN : offset + HEADER_LEN + n] = self.data
        return HEADER_LEN + n

    def pack(self):
        buf = bytearray(HEADER_LEN + len(self.data))
        self.pack_into(buf)
        return bytes(buf)

    @classmethod
    def unpack(cls, data, offset=0, exact=True):
        """Packet at data[offset:]. With exact=True, bytes after the packet are an error."""
        ptype, sec, apid, flags, count, dlen = unpack_header(data, offset)
        end = offset + HEADER_LEN + dlen
        if end > len(data):
            raise TruncatedError(
                "spacepacket.data", offset + HEADER_LEN, dlen, len(data) - offset - HEADER_LEN
            )
        if exact and end != len(data):
            raise OversizedError("spacepacket", offset, HEADER_LEN + dlen, len(data) - offset)
        return cls(ptype, apid, bytes(data[offset + HEADER_LEN : end]), count, flags, sec)


def idle_packet(data_len, seq_count=0, fill=0x00):
    """An idle packet (APID 0x7FF) whose data field holds `data_len` fill bytes."""
    return SpacePacket(TM, APID_IDLE, bytes([fill]) * data_len, seq_count)


_RX = (
    "scan_packets",
    "scan_packets_py",
    "split_packets",
    "split_packets_py",
    "scan_arrays",
    "scan_arrays_py",
    "PacketBatch",
    "PacketStream",
)


# stream scanning, the ground's side, imported on first use
__getattr__ = forward("protocols.spacepacket", "protocols.spacepacket_rx", _RX)
