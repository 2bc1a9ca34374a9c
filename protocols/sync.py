"""CCSDS 131.0-B synchronization: ASM, CADU building and a streaming frame synchronizer.

CADU = ASM 0x1ACFFC1D | randomized RS codeblock (the ASM itself is not randomized).
The synchronizer searches the byte stream for the ASM, locks, and then expects the
next ASM exactly one CADU later. A corrupted or missing ASM at the expected place is
bridged by the flywheel (the CADU is taken anyway) up to `flywheel` times in a row;
one more miss drops lock and the search starts again. Before flywheeling, an exact ASM
within `slip_window` bytes after the expected place re-aligns at once (inserted bytes);
that, like a re-acquired ASM off the CADU grid after a lock loss, counts as a slip.
"""

from protocols import randomizer, rs
from protocols._accel import native
from protocols.errors import UncorrectableError

ASM = b"\x1a\xcf\xfc\x1d"
ASM_LEN = 4
SEARCH = 0
LOCK = 1


def find_asm_py(buf, start=0, end=None):
    """Offset of the next exact ASM in buf[start:end], or -1."""
    if end is None:
        end = len(buf)
    # bytearray.find works on both interpreters; memoryview has no find
    idx = (
        bytes(buf[start:end]).find(ASM)
        if not isinstance(buf, (bytes, bytearray))
        else buf.find(ASM, start, end)
    )
    if idx < 0:
        return -1
    return idx if isinstance(buf, (bytes, bytearray)) else idx + start


find_asm = native.find_asm if native is not None else find_asm_py


def _bit_errors(buf, pos):
    n = 0
    for i in range(ASM_LEN):
        x = buf[pos + i] ^ ASM[i]
        while x:
            x &= x - 1
            n += 1
    return n


def build_cadu(frame, interleave=5, dual_basis=True, randomize=True):
    """ASM + (randomized) RS codeblock of a TM frame; len(frame) = I*k', k' <= 223."""
    block = bytearray(rs.encode(frame, interleave, dual_basis))
    if randomize:
        randomizer.randomize_into(block)
    return ASM + bytes(block)


class FrameSync:
    """Streaming synchronizer: feed chunks, get codeblocks (ASM stripped, still randomized)."""

    def __init__(self, codeblock_len, flywheel=3, max_asm_bit_errors=2, slip_window=32):
        self.codeblock_len = codeblock_len
        self.cadu_len = codeblock_len + ASM_LEN
        self.flywheel = flywheel
        self.max_asm_bit_errors = max_asm_bit_errors
        self.slip_window = slip_window
        self.state = SEARCH
        self._buf = bytearray()
        self._misses = 0
        self._consumed = 0  # stream offset of _buf[0]
        self._last_lock = None  # stream offset of the last accepted ASM position
        self.frames = 0
        self.asm_misses = 0
        self.asm_bit_errors = 0
        self.lock_losses = 0
        self.slips = 0
        self.bytes_skipped = 0

    def feed(self, chunk):
        self._buf += chunk
        buf = self._buf
        out = []
        pos = 0
        cadu = self.cadu_len
        while True:
            if self.state == SEARCH:
                idx = find_asm(buf, pos)
                if idx < 0:
                    keep = max(pos, len(buf) - (ASM_LEN - 1))
                    self.bytes_skipped += keep - pos
                    pos = keep
                    break
                self.bytes_skipped += idx - pos
                pos = idx
                if self._last_lock is not None and (self._consumed + pos - self._last_lock) % cadu:
                    self.slips += 1
                self.state = LOCK
                self._misses = 0
            if len(buf) - pos < cadu:
                break
            errs = _bit_errors(buf, pos)
            if errs <= self.max_asm_bit_errors:
                self._misses = 0
                self.asm_bit_errors += errs
            else:
                # decide only with the whole slip window buffered, so any chunking gives the same result
                if len(buf) - pos < cadu + self.slip_window:
                    break
                if self.slip_window:
                    # inserted bytes: an exact ASM a little further on re-aligns without losing lock
                    idx = find_asm(buf, pos + 1, pos + self.slip_window + ASM_LEN)
                    if idx >= 0:
                        self.slips += 1
                        self.bytes_skipped += idx - pos
                        pos = idx
                        continue
                self._misses += 1
                self.asm_misses += 1
                if self._misses > self.flywheel:
                    self.lock_losses += 1
                    self.state = SEARCH
                    pos += 1
                    self.bytes_skipped += 1
                    continue
            self._last_lock = self._consumed + pos
            out.append(bytes(buf[pos + ASM_LEN : pos + cadu]))
            self.frames += 1
            pos += cadu
        if pos:
            self._consumed += pos
            self._buf = buf[pos:]
        return out


class CaduDecoder:
    """FrameSync + de-randomizer + RS decoder: byte stream in, TM frame bytes out."""

    def __init__(self, frame_len, interleave=5, dual_basis=True, randomize=True, flywheel=3):
        if frame_len % interleave:
            raise ValueError("frame length must be a multiple of the interleave depth")
        self.frame_len = frame_len
        self.interleave = interleave
        self.dual_basis = dual_basis
        self.randomize = randomize
        self.sync = FrameSync(frame_len + 32 * interleave, flywheel)
        self.corrected_symbols = 0
        self.uncorrectable = 0
        self.frames = 0

    def feed(self, chunk):
        blocks = self.sync.feed(chunk)
        if not blocks:
            return []
        joined = bytearray(b"".join(blocks))
        if self.randomize:
            n = self.sync.codeblock_len
            for i in range(len(blocks)):
                randomizer.randomize_into(joined, i * n, (i + 1) * n)
        data, counts = rs.decode_batch(joined, self.sync.codeblock_len, self.interleave, self.dual_basis)
        out = []
        fl = self.frame_len
        for i in range(len(counts)):
            if counts[i] < 0:
                self.uncorrectable += 1
                continue
            self.corrected_symbols += counts[i]
            self.frames += 1
            out.append(data[i * fl : (i + 1) * fl])
        return out


__all__ = ["ASM", "CaduDecoder", "FrameSync", "UncorrectableError", "build_cadu", "find_asm"]
