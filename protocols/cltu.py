"""CCSDS 231.0-B TC Synchronization and Channel Coding: CLTUs with BCH(63,56) codeblocks.

CLTU = start sequence 0xEB90 | codeblocks | tail sequence C5C5C5C5C5C5C579.
A codeblock is 7 information bytes and 1 parity byte: the 7 parity bits of the
modified BCH(63,56) code with generator g(x) = x^7 + x^6 + x^2 + 1 (remainder of
info(x) * x^7 mod g(x)), complemented, followed by a filler bit 0. The last codeblock is
completed with 0x55 fill bytes.

g(x) = (x + 1)(x^6 + x + 1), so the code has minimum distance 4: the decoder corrects one
bit error per codeblock (error-correcting mode) and detects every double error; with
correct=False it only detects (error-detecting mode). The tail sequence lies at distance 3
or more from every codeword, so a tail with one bit error still cannot be mistaken for data:
a block within one bit of the tail ends the CLTU.

Optional TC randomizer: the frame is XORed with the sequence of
h(x) = x^8 + x^6 + x^4 + x^3 + x^2 + x + 1 from an all-ones register, restarted for
every CLTU. Here the fill bytes are randomized too (the standard allows either), so
decode(encode(x, randomize=True), randomize=True) gives x and its 0x55 fill back.

A board decodes its uplink stream with CltuReceiver. The encoder and the one-shot decoder of a
whole CLTU are protocols/cltu_ground.py (a board never loads it); cltu.encode, cltu.decode, ...
import it on first use.
"""

from protocols._lazy import forward
from protocols._viper import hot as _hot
from protocols.randomizer import xor_sequence_into

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


START = b"\xeb\x90"
TAIL = b"\xc5\xc5\xc5\xc5\xc5\xc5\xc5\x79"
FILL = const(0x55)
INFO_LEN = const(7)
BLOCK_LEN = const(8)
START_LEN = const(2)
TAIL_LEN = const(8)


def _build_bch_table():
    # byte-wise division by g(x): the 7-bit remainder is kept in the top 7 bits of a byte,
    # so one table step folds in 8 information bits (like a left-aligned CRC-7)
    table = bytearray(256)
    for v in range(256):
        c = v
        for _ in range(8):
            c = ((c << 1) ^ 0x8A) & 0xFF if c & 0x80 else (c << 1) & 0xFF  # 0x8A = g(x) - x^7, shifted
        table[v] = c
    return table


_BCH = _build_bch_table()


def parity_bits(buf, offset=0):
    """The 7 BCH parity bits (not complemented) of the information bytes at buf[offset:offset+7]."""
    r = 0
    t = _BCH
    for i in range(offset, offset + INFO_LEN):
        r = t[r ^ buf[i]]
    return r >> 1


def _build_syndrome_table():
    # _SYNDROME[s] = 1 + position of the single bit error with syndrome s (0: not a single error);
    # positions 0..55 are information bits (MSB first), 56..62 the parity bits
    table = bytearray(128)
    word = bytearray(INFO_LEN)
    for pos in range(56):
        word[pos >> 3] = 0x80 >> (pos & 7)
        table[parity_bits(word)] = pos + 1
        word[pos >> 3] = 0
    for q in range(7):
        table[0x40 >> q] = 57 + q
    return table


_SYNDROME = _build_syndrome_table()


def _tail_like(buf, offset):
    """True when buf[offset:offset+8] is the tail sequence with at most one bit error."""
    errors = 0
    for i in range(TAIL_LEN):
        x = buf[offset + i] ^ TAIL[i]
        while x:
            x &= x - 1
            errors += 1
        if errors > 1:
            return False
    return True


def _decode_into(src, offset, dst, doffset, correct=True):
    """Check (and fix) the codeblock at src[offset:], write its 7 info bytes to dst[doffset:].

    Returns the number of corrected bits (0 or 1), or -1 when the block is uncorrectable.
    """
    syn = parity_bits(src, offset) ^ (src[offset + 7] >> 1) ^ 0x7F
    for i in range(INFO_LEN):
        dst[doffset + i] = src[offset + i]
    if syn == 0:
        return 0
    pos = _SYNDROME[syn]
    if not correct or pos == 0:
        return -1
    pos -= 1
    if pos < 56:
        dst[doffset + (pos >> 3)] ^= 0x80 >> (pos & 7)
    return 1


# --- TC randomizer ---------------------------------------------------------------------------------


def _tc_sequence():
    # Fibonacci form of h(x): the output bit is the register's low end; the new bit is the XOR
    # of the taps x^0, x^1, x^2, x^3, x^4, x^6 (h(x) without its x^8 term)
    reg = 0xFF
    out = bytearray(255)
    for i in range(255):
        byte = 0
        for _ in range(8):
            byte = (byte << 1) | (reg & 1)
            fb = (reg ^ reg >> 1 ^ reg >> 2 ^ reg >> 3 ^ reg >> 4 ^ reg >> 6) & 1
            reg = (reg >> 1) | (fb << 7)
        out[i] = byte
    return bytes(out)


TC_SEQUENCE = _tc_sequence()


def tc_randomize_into(buf, start=0, end=None):
    """XOR buf[start:end] in place with the TC randomizer sequence (aligned to start)."""
    xor_sequence_into(buf, TC_SEQUENCE, start, end)


if _hot is not None:  # MicroPython with a viper emitter: BCH blocks and the tail check in viper
    IMPL = "viper"
    _hot.bind("_BCH", _BCH)
    _hot.bind("_SYN", _SYNDROME)
    _hot.bind("_TAIL", TAIL)
else:
    IMPL = "pure"

_GROUND = ("parity_byte", "decode_block", "tc_randomize", "encoded_len", "encode_into", "encode", "decode")

_SEARCH = const(0)
_DECODE = const(1)


class CltuReceiver:
    """Streaming CLTU decoder over a byte stream in arbitrary chunks.

    Searches the start sequence, decodes codeblocks until the tail and returns each CLTU's
    data (frame bytes plus fill, de-randomized when asked). An uncorrectable codeblock that
    is not the tail abandons the CLTU (counted in `aborted`) and the search restarts inside
    that block, so a start sequence right after a cut-off CLTU is still found. Buffers are
    allocated once; max_blocks bounds a CLTU (147 blocks carry a 1024-byte frame).
    """

    def __init__(self, max_blocks=160, randomize=False, correct=True):
        self.max_blocks = max_blocks
        self.randomize = randomize
        self.correct = correct
        self._out = bytearray(max_blocks * INFO_LEN)
        self._olen = 0
        self._blk = bytearray(BLOCK_LEN)
        self._blen = 0
        self._state = _SEARCH
        self._eb = False  # the last byte searched was 0xEB
        self.cltus = 0
        self.aborted = 0
        self.corrected_bits = 0
        self.skipped = 0

    def _begin(self):
        self._state = _DECODE
        self._olen = 0
        self._blen = 0

    def _abort(self):
        """Drop the CLTU; look for a start sequence in the failed block itself."""
        self.aborted += 1
        self._state = _SEARCH
        blk = self._blk
        for k in range(BLOCK_LEN - 1):
            if blk[k] == 0xEB and blk[k + 1] == 0x90:
                self.skipped += k
                rest = BLOCK_LEN - k - 2
                self._begin()
                blk[0:rest] = blk[k + 2 : BLOCK_LEN]
                self._blen = rest
                return
        self.skipped += BLOCK_LEN
        self._eb = blk[BLOCK_LEN - 1] == 0xEB
        if self._eb:
            self.skipped -= 1  # counted when the byte after it shows whether it starts a CLTU

    def _block(self, out):
        blk = self._blk
        self._blen = 0
        if _hot.tail_like(blk, 0) if _hot is not None else _tail_like(blk, 0):
            self._state = _SEARCH
            self._eb = False
            if not self._olen:
                self.aborted += 1  # a start sequence straight followed by the tail
                return
            data = bytearray(self._out[: self._olen])
            if self.randomize:
                if _hot is not None:
                    _hot.xor_seq(data, 0, len(data), TC_SEQUENCE)
                else:
                    tc_randomize_into(data)
            out.append(bytes(data))
            self.cltus += 1
            return
        if self._olen + INFO_LEN > len(self._out):
            self._abort()
            return
        if _hot is not None:
            c = _hot.bch_block(blk, 0, self._out, self._olen << 1 | (1 if self.correct else 0))
        else:
            c = _decode_into(blk, 0, self._out, self._olen, self.correct)
        if c < 0:
            self._abort()
            return
        self.corrected_bits += c
        self._olen += INFO_LEN

    def feed(self, chunk):
        """Take the next bytes of the stream; return the list of completed CLTUs' data."""
        if not isinstance(chunk, (bytes, bytearray)):
            chunk = bytes(chunk)
        out = []
        n = len(chunk)
        pos = 0
        while True:
            if self._state == _DECODE and self._blen == BLOCK_LEN:
                self._block(out)  # may leave a partial block behind after an abort
                continue
            if pos >= n:
                break
            if self._state == _SEARCH:
                if self._eb:
                    self._eb = False
                    if chunk[pos] == 0x90:
                        pos += 1
                        self._begin()
                        continue
                    self.skipped += 1  # the 0xEB held back did not start a CLTU
                idx = chunk.find(START, pos)
                if idx < 0:
                    self._eb = chunk[n - 1] == 0xEB
                    self.skipped += n - pos - (1 if self._eb else 0)
                    pos = n
                    continue
                self.skipped += idx - pos
                pos = idx + START_LEN
                self._begin()
                continue
            take = BLOCK_LEN - self._blen
            if take > n - pos:
                take = n - pos
            blk = self._blk
            blen = self._blen
            for i in range(take):  # byte by byte: a slice of chunk would be a new object per block
                blk[blen + i] = chunk[pos + i]
            self._blen = blen + take
            pos += take
        return out


# the encoder and the one-shot decoder of a whole CLTU, the ground's side, imported on first use
__getattr__ = forward("protocols.cltu", "protocols.cltu_ground", _GROUND)
