"""Building CCSDS TC transfer frames and COP-1 control commands: the ground's half of
protocols/tcframe.py (a board only receives frames), reached through the same names there
(`TcFrame.pack`, `tcframe.set_vr`, `tcframe.unlock_frame`, `tcframe.set_vr_frame`).
"""

import struct

from protocols.crc import crc16
from protocols.errors import EncodeError
from protocols.tcframe import (
    HEADER_LEN,
    MAX_FRAME_LEN,
    SEG_UNSEGMENTED,
    UNLOCK,
    TcFrame,
    frame_len,
)


def pack_into(frame, buf, offset=0):
    """Write TcFrame `frame` at buf[offset:]; returns its length."""
    if not 0 <= frame.scid <= 0x3FF or not 0 <= frame.vcid <= 63 or not 0 <= frame.seq <= 255:
        raise EncodeError("tcframe.header", "scid/vcid/seq out of range: %r" % (frame,))
    if frame.control and not frame.bypass:
        raise EncodeError("tcframe.flags", "control command frames are type BC (bypass set)")
    if frame.control and frame.map_id is not None:
        raise EncodeError("tcframe.map_id", "type BC frames carry no segment header")
    if not frame.data:
        raise EncodeError("tcframe.data", "empty data field")
    seg = 0 if frame.map_id is None else 1
    n = frame_len(len(frame.data), seg, frame.has_fecf)
    if n > MAX_FRAME_LEN:
        raise EncodeError("tcframe.length", "frame of %d bytes exceeds %d" % (n, MAX_FRAME_LEN))
    if len(buf) - offset < n:
        raise EncodeError("tcframe.buffer", "needs %d bytes, has %d" % (n, len(buf) - offset))
    w0 = (1 if frame.bypass else 0) << 13 | (1 if frame.control else 0) << 12 | frame.scid
    struct.pack_into(">HHB", buf, offset, w0, frame.vcid << 10 | (n - 1), frame.seq)
    pos = offset + HEADER_LEN
    if seg:
        if not 0 <= frame.map_id <= 63 or not 0 <= frame.seq_flags <= 3:
            raise EncodeError("tcframe.segment_header", "MAP ID / flags out of range: %r" % (frame.map_id,))
        buf[pos] = frame.seq_flags << 6 | frame.map_id
        pos += 1
    buf[pos : pos + len(frame.data)] = frame.data
    if frame.has_fecf:
        end = offset + n
        c = crc16(memoryview(buf)[offset : end - 2])
        buf[end - 2] = c >> 8
        buf[end - 1] = c & 0xFF
    return n


def set_vr(value):
    """Set V(R) control command body."""
    if not 0 <= value <= 255:
        raise EncodeError("tcframe.set_vr", "out of range 0..255: %r" % (value,))
    return bytes((0x82, 0x00, value))


def unlock_frame(scid, vcid, has_fecf=True):
    """Type-BC frame carrying the COP-1 Unlock directive."""
    return TcFrame(scid, vcid, UNLOCK, 0, True, True, None, SEG_UNSEGMENTED, has_fecf)


def set_vr_frame(scid, vcid, value, has_fecf=True):
    """Type-BC frame carrying Set V(R) = value."""
    return TcFrame(scid, vcid, set_vr(value), 0, True, True, None, SEG_UNSEGMENTED, has_fecf)
