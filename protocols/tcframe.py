"""CCSDS 232.0-B TC Space Data Link Protocol: transfer frames and COP-1 control commands.

Primary header (5 bytes, 232.0-B section 4.1.2):
  version (2, 00) | bypass flag (1) | control command flag (1) | spare (2, 00) | SCID (10)
  | VCID (6) | frame length (10) = total octets - 1 (a frame holds at most 1024 octets)
  | frame sequence number N(S) (8)
Optional segment header (1 byte, MAP service): sequence flags (2) | MAP ID (6).
Frame error control field: CRC-16-CCITT over everything before it.

Type-AD frames (bypass 0, control 0) go through the FARM-1 sequence check, type-BD (bypass 1)
skip it, type-BC (bypass 1, control 1) carry COP-1 control commands (CCSDS
232.1-B): Unlock = 0x00, Set V(R) = 0x82 0x00 V(R). Type BC frames have no segment header.
"""

import struct

from protocols._lazy import forward
from protocols.crc import crc16
from protocols.errors import (
    CrcError,
    FieldValueError,
    LengthError,
    OversizedError,
    TruncatedError,
    VersionError,
)

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


HEADER_LEN = const(5)
FECF_LEN = const(2)
MAX_FRAME_LEN = const(1024)
SEG_CONTINUATION = const(0)
SEG_FIRST = const(1)
SEG_LAST = const(2)
SEG_UNSEGMENTED = const(3)

# COP-1 control commands carried by type-BC frames
CC_UNLOCK = const(0)
CC_SET_VR = const(1)
UNLOCK = b"\x00"
SET_VR_PREFIX = b"\x82\x00"


def parse_control(data, offset=0):
    """(CC_UNLOCK, None) or (CC_SET_VR, V(R)) from a type-BC frame's data field."""
    n = len(data)
    if n == 1 and data[0] == 0x00:
        return CC_UNLOCK, None
    if n == 3 and data[0] == 0x82 and data[1] == 0x00:
        return CC_SET_VR, data[2]
    if n == 0:
        raise TruncatedError("tcframe.control", offset, 1, 0)
    raise FieldValueError(
        "tcframe.control", offset, "not a COP-1 control command (Unlock 00, Set V(R) 82 00 xx)"
    )


def frame_len(data_len, has_segment_header=False, has_fecf=True):
    """Total octets of a frame carrying data_len data bytes."""
    return HEADER_LEN + (1 if has_segment_header else 0) + data_len + (FECF_LEN if has_fecf else 0)


class TcFrame:
    """One TC transfer frame; map_id None means no segment header."""

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
        self.map_id = map_id
        self.seq_flags = seq_flags
        self.has_fecf = has_fecf

    def __eq__(self, other):
        return isinstance(other, TcFrame) and self.pack() == other.pack()

    def __repr__(self):
        return "TcFrame(%s scid=%d vc=%d N(S)=%d %d bytes)" % (
            self.kind(),
            self.scid,
            self.vcid,
            self.seq,
            len(self.data),
        )

    def kind(self):
        """Frame type: AD, BD or BC."""
        return "BC" if self.control else ("BD" if self.bypass else "AD")

    def __len__(self):
        return frame_len(len(self.data), self.map_id is not None, self.has_fecf)

    def pack_into(self, buf, offset=0):
        """Write the frame at buf[offset:]; returns its length (a ground's job: tcframe_tx)."""
        from protocols.tcframe_tx import pack_into

        return pack_into(self, buf, offset)

    def pack(self):
        buf = bytearray(len(self))
        self.pack_into(buf)
        return bytes(buf)

    @classmethod
    def unpack(cls, raw, has_segment_header=False, has_fecf=True):
        """Parse and check one whole frame (raw is exactly the frame).

        Errors: TruncatedError (shorter than a header), OversizedError (over 1024 octets),
        VersionError, FieldValueError (spare bits, BC without bypass), LengthError (frame
        length field disagrees with the bytes), CrcError.
        """
        n = len(raw)
        minimum = HEADER_LEN + (FECF_LEN if has_fecf else 0)
        if n < minimum:
            raise TruncatedError("tcframe.header", 0, minimum, n)
        if n > MAX_FRAME_LEN:
            raise OversizedError("tcframe", 0, MAX_FRAME_LEN, n)
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
            end -= FECF_LEN
        if (w0 >> 10) & 3:
            raise FieldValueError("tcframe.spare", 0, "spare bits must be 00")
        bypass = bool(w0 >> 13 & 1)
        control = bool(w0 >> 12 & 1)
        if control and not bypass:
            raise FieldValueError("tcframe.flags", 0, "control command frames must be type BC (bypass set)")
        pos = HEADER_LEN
        map_id = None
        seq_flags = SEG_UNSEGMENTED
        if has_segment_header and not control:
            if end - pos < 1:
                raise TruncatedError("tcframe.segment_header", pos, 1, 0)
            seq_flags = raw[pos] >> 6
            map_id = raw[pos] & 0x3F
            pos += 1
        if end - pos < 1:
            raise TruncatedError("tcframe.data", pos, 1, 0)
        return cls(
            w0 & 0x3FF, w1 >> 10, bytes(raw[pos:end]), seq, bypass, control, map_id, seq_flags, has_fecf
        )

    def control_command(self):
        """(CC_UNLOCK, None) or (CC_SET_VR, value) of a type-BC frame."""
        if not self.control:
            raise FieldValueError("tcframe.flags", 0, "not a control command frame")
        return parse_control(self.data, HEADER_LEN)


def peek_length(data, offset=0):
    """Frame length from the header at data[offset:] (to cut a frame out of CLTU data)."""
    if len(data) - offset < HEADER_LEN:
        raise TruncatedError("tcframe.header", offset, HEADER_LEN, max(0, len(data) - offset))
    return (((data[offset + 2] & 3) << 8) | data[offset + 3]) + 1


def unpack_with_fill(data, has_segment_header=False, has_fecf=True):
    """A TC frame from CLTU data, which ends with 0x55 fill: the frame length field says where."""
    length = peek_length(data)
    if length > len(data):
        raise TruncatedError("tcframe", 0, length, len(data))
    return TcFrame.unpack(data[:length], has_segment_header, has_fecf)


# Building frames is the ground's job: a board only receives them (protocols/tcframe_tx.py)
__getattr__ = forward("protocols.tcframe", "protocols.tcframe_tx", ("set_vr", "unlock_frame", "set_vr_frame"))
