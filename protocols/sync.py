"""CCSDS 131.0-B TM Synchronization and Channel Coding: the ASM and CADUs (send side).

CADU = attached sync marker 0x1ACFFC1D | pseudo-randomized Reed-Solomon codeblock
(the ASM itself is not randomized). The codeblock is protocols.rs with
interleave I (dual basis by default); a frame shorter than 223*I bytes gives a shortened
codeblock (virtual fill).

The receive side (ASM search, frame synchronizer, CADU decoder) is protocols/sync_rx.py: a
spacecraft only builds CADUs and never loads it. Its names are reachable here too
(sync.FrameSync, sync.CaduDecoder, sync.find_asm), imported on first use.
"""

from protocols import randomizer, rs
from protocols._lazy import forward
from protocols.errors import EncodeError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


ASM = b"\x1a\xcf\xfc\x1d"
ASM_LEN = const(4)
SEARCH = const(0)
LOCK = const(1)


def asm_bit_errors(buf, pos):
    """Number of bits of buf[pos:pos+4] that differ from the ASM."""
    n = 0
    for i in range(ASM_LEN):
        x = buf[pos + i] ^ ASM[i]
        while x:
            x &= x - 1
            n += 1
    return n


def check_geometry(frame_len, interleave):
    """EncodeError unless frame_len bytes fill I=interleave codewords of at most 223 bytes each
    (the transmitter's CADUs and the receiver's CaduDecoder check alike)."""
    if interleave not in rs.INTERLEAVE_DEPTHS:
        raise EncodeError("sync.interleave", "must be one of 1, 2, 3, 4, 5, 8, got %r" % (interleave,))
    if frame_len < interleave or frame_len % interleave or frame_len > rs.K_MAX * interleave:
        raise EncodeError(
            "sync.frame_len",
            "%d is not a multiple of I=%d up to %d" % (frame_len, interleave, 223 * interleave),
        )


def cadu_len(frame_len, interleave=5):
    """Bytes of the CADU carrying a frame of frame_len bytes."""
    check_geometry(frame_len, interleave)
    return ASM_LEN + frame_len + rs.NROOTS * interleave


def build_cadu_into(frame, out, interleave=5, dual_basis=True, randomize=True):
    """Write ASM + (randomized) RS codeblock of frame into out; returns the CADU length."""
    n = cadu_len(len(frame), interleave)
    if len(out) < n:
        raise EncodeError("sync.buffer", "needs %d bytes, has %d" % (n, len(out)))
    out[0:ASM_LEN] = ASM
    rs.encode_into(frame, memoryview(out)[ASM_LEN:n], interleave, dual_basis)
    if randomize:
        randomizer.randomize_into(out, ASM_LEN, n)
    return n


def build_cadu(frame, interleave=5, dual_basis=True, randomize=True):
    """ASM + (randomized) RS codeblock of a TM frame; len(frame) = I*k', k' <= 223."""
    out = bytearray(cadu_len(len(frame), interleave))
    build_cadu_into(frame, out, interleave, dual_basis, randomize)
    return bytes(out)


_RX = ("find_asm", "find_asm_py", "FrameSync", "CaduDecoder")


# the receive side, imported on first use
__getattr__ = forward("protocols.sync", "protocols.sync_rx", _RX)


__all__ = [
    "ASM",
    "LOCK",
    "SEARCH",
    "asm_bit_errors",
    "build_cadu",
    "build_cadu_into",
    "cadu_len",
]
