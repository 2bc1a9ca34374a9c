"""CCSDS 131.0-B receive side: the ASM search, the frame synchronizer and the CADU decoder.

The ground's half of protocols.sync: a spacecraft only builds CADUs, so a board never loads this
module (its heap is 90-230 KB). The names stay reachable as protocols.sync.<name>.

The synchronizer searches the byte stream for the ASM (state SEARCH), locks on it (LOCK) and
then expects the next ASM exactly one CADU later. At the expected place:
  - an ASM with up to `max_asm_bit_errors` wrong bits is a hit;
  - otherwise an exact ASM within `slip_window` bytes before or after it re-aligns at once
    (bytes were dropped or inserted): a slip, lock kept;
  - otherwise the flywheel takes the CADU at the expected place anyway, up to `flywheel`
    consecutive misses; one more miss drops lock and the search starts again.
An ASM found off the CADU grid after a lock loss also counts as a slip. Every decision waits
until the bytes it looks at are buffered, so the result does not depend on the chunking.
"""

from protocols import randomizer, rs, rs_decode, tmframe_rx
from protocols._accel import BUFFER, native, readable
from protocols.errors import ArgumentError, CrcError, EncodeError, ProtocolError
from protocols.sync import ASM, ASM_LEN, LOCK, SEARCH, asm_bit_errors, check_geometry


def find_asm_py(buf, start=0, end=None):
    """Offset of the next exact ASM in buf[start:end], or -1.

    start and end are clamped to 0..len(buf) (a negative one counts as 0, not from the end);
    end None is len(buf). A buffer that is not bytes-like, or a bound that is not an int, is
    an ArgumentError.
    """
    if not readable(buf):
        raise ArgumentError("sync.buf", buf, BUFFER)
    if type(start) is not int:
        raise ArgumentError("sync.start", start, "an int")
    if end is not None and type(end) is not int:
        raise ArgumentError("sync.end", end, "None or an int")
    n = len(buf)
    if end is None or end > n:
        end = n
    if start < 0:
        start = 0
    if end - start < ASM_LEN:
        return -1
    if isinstance(buf, (bytes, bytearray)):
        return buf.find(ASM, start, end)
    idx = bytes(buf[start:end]).find(ASM)  # memoryview has no find
    return idx if idx < 0 else idx + start


find_asm = native.find_asm if native is not None else find_asm_py


class FrameSync:
    """Streaming frame synchronizer: feed chunks, get codeblocks (ASM stripped, still randomized).

    Counters: frames, asm_misses (flywheeled CADUs), asm_bit_errors (bits tolerated in
    accepted ASMs), lock_losses, slips, bytes_skipped (bytes in no accepted CADU).
    """

    def __init__(self, codeblock_len, flywheel=3, max_asm_bit_errors=2, slip_window=32):
        if codeblock_len < 1:
            raise EncodeError("sync.codeblock_len", "must be positive, got %r" % (codeblock_len,))
        self.codeblock_len = codeblock_len
        self.cadu_len = codeblock_len + ASM_LEN
        self.flywheel = flywheel
        self.max_asm_bit_errors = max_asm_bit_errors
        # a backward look must stay clear of the previous ASM
        if slip_window > codeblock_len - 1:
            slip_window = max(0, codeblock_len - 1)
        self.slip_window = slip_window
        self.state = SEARCH
        self._buf = bytearray()
        self._pos = 0  # index in _buf of the expected ASM (LOCK) or of the search start
        self._base = 0  # stream offset of _buf[0]
        self._misses = 0
        self._last_lock = None  # stream offset of the last accepted CADU
        self.frames = 0
        self.asm_misses = 0
        self.asm_bit_errors = 0
        self.lock_losses = 0
        self.slips = 0
        self.bytes_skipped = 0

    def _nearby_asm(self, buf, pos):
        """Offset of the exact ASM nearest to pos within the slip window (not pos), or -1."""
        w = self.slip_window
        fwd = find_asm(buf, pos + 1, pos + w + ASM_LEN)
        back = -1
        lo = pos - w if pos - w > 0 else 0
        while True:
            idx = find_asm(buf, lo, pos + ASM_LEN - 1)
            if idx < 0 or idx >= pos:
                break
            back = idx
            lo = idx + 1
        if back < 0:
            return fwd
        if fwd < 0 or pos - back < fwd - pos:
            return back
        return fwd

    def _run(self, final):
        buf = self._buf
        pos = self._pos
        out = []
        cadu = self.cadu_len
        while True:
            if self.state == SEARCH:
                idx = find_asm(buf, pos)
                if idx < 0:
                    keep = len(buf) if final else max(pos, len(buf) - (ASM_LEN - 1))
                    self.bytes_skipped += keep - pos
                    pos = keep
                    break
                self.bytes_skipped += idx - pos
                pos = idx
                if self._last_lock is not None and (self._base + pos - self._last_lock) % cadu:
                    self.slips += 1
                self.state = LOCK
                self._misses = 0
            if len(buf) - pos < cadu:
                if final and self.slip_window:
                    # end of stream: the last CADU may sit a little early (dropped bytes)
                    idx = self._nearby_asm(buf, pos)
                    missing = len(buf) - pos < ASM_LEN or asm_bit_errors(buf, pos) > self.max_asm_bit_errors
                    if 0 <= idx < pos and missing:
                        self.slips += 1
                        pos = idx
                        continue
                break
            errs = asm_bit_errors(buf, pos)
            if errs <= self.max_asm_bit_errors:
                self._misses = 0
                self.asm_bit_errors += errs
            else:
                if self.slip_window:
                    # decide only with the whole window buffered, so any chunking gives the same result
                    if len(buf) - pos < cadu + self.slip_window and not final:
                        break
                    idx = self._nearby_asm(buf, pos)
                    if idx >= 0:
                        self.slips += 1
                        if idx > pos:
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
            self._last_lock = self._base + pos
            out.append(bytes(buf[pos + ASM_LEN : pos + cadu]))
            self.frames += 1
            pos += cadu
        # keep the slip window's worth of history before the expected ASM
        cut = pos - self.slip_window if self.state == LOCK else pos
        if cut > 0:
            self._base += cut
            self._buf = buf[cut:]
            pos -= cut
        self._pos = pos
        return out

    def feed(self, chunk):
        """Take the next bytes of the stream; return the codeblocks of the CADUs it completed."""
        self._buf += chunk
        return self._run(False)

    def flush(self):
        """End of the stream (e.g. end of pass): decide with what is buffered, then start over.

        Returns the last codeblocks; the bytes of an incomplete CADU count as skipped.
        """
        out = self._run(True)
        rest = len(self._buf) - self._pos
        if rest > 0:
            self.bytes_skipped += rest
        self._base += len(self._buf)
        self._buf = bytearray()
        self._pos = 0
        self.state = SEARCH
        self._misses = 0
        return out


class CaduDecoder:
    """FrameSync + de-randomizer + RS decoder: byte stream in, TM frames out.

    `feed` returns frame bytes of every codeblock RS could decode (corrected symbols are
    counted in `corrected_symbols`, failed codeblocks in `uncorrectable`); `feed_frames`
    also parses them into TmFrame objects, counting FECF failures in `crc_errors`
    and other bad frames in `bad_frames`.
    """

    def __init__(
        self,
        frame_len,
        interleave=5,
        dual_basis=True,
        randomize=True,
        flywheel=3,
        max_asm_bit_errors=2,
        slip_window=32,
    ):
        check_geometry(frame_len, interleave)
        self.frame_len = frame_len
        self.interleave = interleave
        self.dual_basis = dual_basis
        self.randomize = randomize
        self.sync = FrameSync(frame_len + rs.NROOTS * interleave, flywheel, max_asm_bit_errors, slip_window)
        self.corrected_symbols = 0
        self.uncorrectable = 0
        self.frames = 0
        self.crc_errors = 0
        self.bad_frames = 0

    def _decode(self, blocks):
        if not blocks:
            return []
        n = self.sync.codeblock_len
        joined = bytearray(b"".join(blocks))
        if self.randomize:
            for i in range(len(blocks)):
                randomizer.randomize_into(joined, i * n, (i + 1) * n)
        data, counts = rs_decode.decode_batch(joined, n, self.interleave, self.dual_basis)
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

    def feed(self, chunk):
        """Frame bytes of the CADUs completed by chunk."""
        return self._decode(self.sync.feed(chunk))

    def flush(self):
        """Frame bytes of what is left at the end of the stream."""
        return self._decode(self.sync.flush())

    def _parse(self, raws, has_fecf):
        out = []
        for raw in raws:
            try:
                out.append(tmframe_rx.unpack(raw, has_fecf))
            except CrcError:
                self.crc_errors += 1
            except ProtocolError:
                self.bad_frames += 1
        return out

    def feed_frames(self, chunk, has_fecf=True):
        """TmFrame objects of the CADUs completed by chunk (frames failing checks are counted)."""
        return self._parse(self.feed(chunk), has_fecf)

    def flush_frames(self, has_fecf=True):
        return self._parse(self.flush(), has_fecf)
