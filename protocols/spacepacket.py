"""CCSDS 133.0-B-2 space packets: primary header, packing and parsing one packet.

Primary header (6 bytes, big-endian):
  version (3 bits, 000) | type (1: 0 TM, 1 TC) | secondary header flag (1) | APID (11)
  sequence flags (2)    | sequence count or packet name (14)
  packet data length (16) = number of bytes in the data field minus one

The packet object (SpacePacket) and scanning streams of concatenated packets are
protocols/spacepacket_rx.py (the ground's side: a board never loads it); spacepacket.SpacePacket,
scan_packets, PacketStream, ... import it on first use.
"""

import struct
from collections import namedtuple

from protocols._lazy import forward
from protocols.errors import (
    EncodeError,
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

# a decoded primary header (unpack_header); data_len is the data field's size in bytes
Header = namedtuple("Header", ("ptype", "sec_hdr", "apid", "seq_flags", "seq_count", "data_len"))


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
    """The primary header at data[offset:], a Header (ptype, sec_hdr, apid, seq_flags, seq_count,
    data_len)."""
    if len(data) - offset < HEADER_LEN:
        raise TruncatedError("spacepacket.header", offset, HEADER_LEN, max(0, len(data) - offset))
    w0, w1, w2 = struct.unpack_from(">HHH", data, offset)
    version = w0 >> 13
    if version != 0:
        raise VersionError("spacepacket.version", offset, 0, version)
    return Header((w0 >> 12) & 1, (w0 >> 11) & 1, w0 & 0x7FF, w1 >> 14, w1 & 0x3FFF, w2 + 1)


_RX = (
    "SpacePacket",
    "idle_packet",
    "scan_packets",
    "scan_packets_py",
    "split_packets",
    "split_packets_py",
    "scan_arrays",
    "scan_arrays_py",
    "PacketBatch",
    "PacketStream",
)


# the packet object and stream scanning, the ground's side, imported on first use
__getattr__ = forward("protocols.spacepacket", "protocols.spacepacket_rx", _RX)
