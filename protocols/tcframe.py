"""CCSDS 232.0-B TC transfer frames.

Primary header (5 bytes):
  version (2, 00) | bypass flag (1) | control command flag (1) | spare (2) | SCID (10)
  | VCID (6) | frame length (10) = total octets - 1 | frame sequence number N(S) (8)
Optional segment header (1 byte): sequence flags (2) | MAP ID (6). FECF: CRC-16.
Type-AD frames (bypass 0) go through FARM-1 sequence checks, type-BD (bypass 1) skip
them, type-BC (bypass 1, control 1) carry COP-1 control commands (Unlock, Set V(R)).
"""

import struct

from protocols.crc import crc16
from protocols.errors import CrcError, EncodeError, FieldValueError, LengthError, TruncatedError, VersionError

HEADER_LEN = 5
MAX_FRAME_LEN = 1024
SEG_UNSEGMENTED = 3
UNLOCK = b"\x00"


def set_vr(value):
    """Set V(R) control command body."""
    if not 0 <= value <= 255:
        raise EncodeError("tcframe.set_vr", "out of range 0..255: %r" % (value,))
    return bytes((0x82, 0x00, value))


class TcFrame:
    def __init__(
        self,
        scid,
        vcid,
        data,
        seq=0,
        bypass=False,
        control=False,
        map_id=None,
        seq_flags=SEG_UNSEGMENTED,
        has_fecf=True,
    ):
        self.scid = scid
        self.vcid = vcid
        self.data = bytes(data)
        self.seq = seq
        self.bypass = bypass
        self.control = control
        self.map_id = map_id  # None: no segment header
        self.seq_flags = seq_flags
        self.has_fecf = has_fecf

    def __eq__(self, other):
        return isinstance(other, TcFrame) and self.pack() == other.pack()

    def __repr__(self):
        kind = "BC" if self.control else ("BD" if self.bypass else "AD")
        return "TcFrame(%s scid=%d vc=%d N(S)=%d %d bytes)" % (
            kind,
            self.scid,
            self.vcid,
            self.seq,
            len(self.data),
        )

    def pack(self):
        if not 0 <= self.scid <= 0x3FF or not 0 <= self.vcid <= 63 or not 0 <= self.seq <= 255:
            raise EncodeError("tcframe.header", "scid/vcid/seq out of range: %r" % (self,))
        seg = 0 if self.map_id is None else 1
        n = HEADER_LEN + seg + len(self.data) + (2 if self.has_fecf else 0)
        if n > MAX_FRAME_LEN:
            raise EncodeError("tcframe.length", "frame of %d bytes exceeds %d" % (n, MAX_FRAME_LEN))
        buf = bytearray(n)
        w0 = (1 if self.bypass else 0) << 13 | (1 if self.control else 0) << 12 | self.scid
        struct.pack_into(">HHB", buf, 0, w0, self.vcid << 10 | (n - 1), self.seq)
        pos = HEADER_LEN
        if seg:
            if not 0 <= self.map_id <= 63:
                raise EncodeError("tcframe.map_id", "out of range 0..63: %r" % (self.map_id,))
            buf[pos] = (self.seq_flags & 3) << 6 | self.map_id
            pos += 1
        buf[pos : pos + len(self.data)] = self.data
        if self.has_fecf:
            c = crc16(memoryview(buf)[: n - 2])
            buf[n - 2] = c >> 8
            buf[n - 1] = c & 0xFF
        return bytes(buf)

    @classmethod
    def unpack(cls, raw, has_segment_header=False, has_fecf=True):
        n = len(raw)
        minimum = HEADER_LEN + (1 if has_segment_header else 0) + (2 if has_fecf else 0)
        if n < minimum:
            raise TruncatedError("tcframe.header", 0, minimum, n)
        if n > MAX_FRAME_LEN:
            raise LengthError("tcframe", 0, MAX_FRAME_LEN, n)
        w0, w1, seq = struct.unpack_from(">HHB", raw, 0)
        if w0 >> 14:
            raise VersionError("tcframe.version", 0, 0, w0 >> 14)
        length = (w1 & 0x3FF) + 1
        if length != n:
            raise LengthError("tcframe.frame_length", 2, length, n)
        end = n
        if has_fecf:
            got = (raw[n - 2] << 8) | raw[n - 1]
            want = crc16(memoryview(raw)[: n - 2])
            if got != want:
                raise CrcError("tcframe.fecf", n - 2, want, got)
            end -= 2
        bypass = bool(w0 >> 13 & 1)
        control = bool(w0 >> 12 & 1)
        if control and not bypass:
            raise FieldValueError("tcframe.flags", 0, "control command frames must be type BC (bypass set)")
        pos = HEADER_LEN
        map_id = None
        seq_flags = SEG_UNSEGMENTED
        if has_segment_header and not control:
            seq_flags = raw[pos] >> 6
            map_id = raw[pos] & 0x3F
            pos += 1
        return cls(
            w0 & 0x3FF, w1 >> 10, bytes(raw[pos:end]), seq, bypass, control, map_id, seq_flags, has_fecf
        )


def unpack_with_fill(data, has_segment_header=False, has_fecf=True):
    """A TC frame from CLTU data, which ends with 0x55 fill: the frame length field says where."""
    if len(data) < HEADER_LEN:
        raise TruncatedError("tcframe.header", 0, HEADER_LEN, len(data))
    length = (((data[2] & 3) << 8) | data[3]) + 1
    if length > len(data):
        raise TruncatedError("tcframe", 0, length, len(data))
    return TcFrame.unpack(data[:length], has_segment_header, has_fecf)
