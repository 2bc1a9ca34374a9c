"""CCSDS 231.0-B Communications Link Transmission Units with BCH(63,56) codeblocks.

CLTU = start sequence 0xEB90 | codeblocks | tail sequence C5C5C5C5C5C5C579.
A codeblock is 7 information bytes and 1 parity byte: the 7 parity bits of the
BCH(63,56) code (generator g(x) = x^7 + x^6 + x^2 + 1), complemented, followed by
a filler bit 0. The last codeblock is padded with 0x55 fill bytes. The decoder
corrects one bit error per codeblock; the tail sequence is built to be an
uncorrectable codeblock, which is how the receiver sees the CLTU end.
"""

from protocols.errors import EncodeError, SyncError, TruncatedError, UncorrectableError

START = b"\xeb\x90"
TAIL = b"\xc5\xc5\xc5\xc5\xc5\xc5\xc5\x79"
FILL = 0x55
INFO_LEN = 7
BLOCK_LEN = 8


def _parity56(info, offset=0):
    """7-bit remainder of info(x) * x^7 mod g(x), not yet complemented."""
    reg = 0
    for i in range(INFO_LEN):
        byte = info[offset + i]
        for k in range(7, -1, -1):
            fb = ((reg >> 6) & 1) ^ ((byte >> k) & 1)
            reg = (reg << 1) & 0x7F
            if fb:
                reg ^= 0x45  # g(x) = x^7 + x^6 + x^2 + 1: taps x^6, x^2, 1
    return reg


def _build_syndrome_table():
    # syndrome of a single bit error at each of the 63 codeword positions (0 = first info bit)
    table = {}
    for pos in range(63):
        word = bytearray(BLOCK_LEN)
        word[pos >> 3] |= 0x80 >> (pos & 7)
        # the code is linear: an error pattern's syndrome is its parity XOR its parity bits
        table[_parity56(word) ^ (word[7] >> 1)] = pos
    return table


_SYNDROME_POS = None


def _table():
    global _SYNDROME_POS
    if _SYNDROME_POS is None:
        _SYNDROME_POS = _build_syndrome_table()
    return _SYNDROME_POS


def encode(frame, randomize=False):
    """CLTU carrying `frame` (bytes)."""
    if not frame:
        raise EncodeError("cltu.data", "empty frame")
    data = bytes(frame)
    if randomize:
        data = tc_randomize(data)
    nblocks = (len(data) + INFO_LEN - 1) // INFO_LEN
    out = bytearray(2 + nblocks * BLOCK_LEN + len(TAIL))
    out[0:2] = START
    pos = 2
    for b in range(nblocks):
        chunk = data[b * INFO_LEN : (b + 1) * INFO_LEN]
        out[pos : pos + len(chunk)] = chunk
        for i in range(len(chunk), INFO_LEN):
            out[pos + i] = FILL
        out[pos + 7] = ((~_parity56(out, pos)) & 0x7F) << 1
        pos += BLOCK_LEN
    out[pos:] = TAIL
    return bytes(out)


def decode_block(block, offset=0):
    """(7 corrected info bytes, corrected bit count 0/1) or UncorrectableError."""
    word = bytearray(block[offset : offset + BLOCK_LEN])
    if len(word) < BLOCK_LEN:
        raise TruncatedError("cltu.codeblock", offset, BLOCK_LEN, len(word))
    syn = _parity56(word) ^ ((~word[7] >> 1) & 0x7F)
    if syn == 0:
        return bytes(word[:INFO_LEN]), 0
    pos = _table().get(syn)
    if pos is None:
        raise UncorrectableError(
            "cltu.codeblock", offset, "BCH syndrome 0x%02X: more than one bit error" % syn
        )
    if pos < 56:
        word[pos >> 3] ^= 0x80 >> (pos & 7)
    return bytes(word[:INFO_LEN]), 1


def decode(cltu, randomize=False):
    """(data incl. fill, corrected bits) of a whole CLTU; errors name the failing codeblock offset."""
    if len(cltu) < 2 + BLOCK_LEN + len(TAIL):
        raise TruncatedError("cltu", 0, 2 + BLOCK_LEN + len(TAIL), len(cltu))
    if bytes(cltu[0:2]) != START:
        raise SyncError("cltu.start", 0, "start sequence 0xEB90 missing")
    out = bytearray()
    fixed = 0
    pos = 2
    while True:
        if len(cltu) - pos < BLOCK_LEN:
            raise TruncatedError("cltu.tail", pos, BLOCK_LEN, len(cltu) - pos)
        if bytes(cltu[pos : pos + BLOCK_LEN]) == TAIL:
            break
        info, n = decode_block(cltu, pos)
        out += info
        fixed += n
        pos += BLOCK_LEN
    if not out:
        raise TruncatedError("cltu.codeblocks", 2, BLOCK_LEN, 0)
    data = bytes(out)
    return (tc_randomize(data) if randomize else data), fixed


# CCSDS 231.0-B TC randomizer: h(x) = x^8 + x^6 + x^4 + x^3 + x^2 + x + 1, all-ones seed
def _tc_sequence(n):
    reg = 0xFF
    out = bytearray(n)
    for i in range(n):
        byte = 0
        for _ in range(8):
            bit = reg & 1
            byte = (byte << 1) | bit
            fb = (reg ^ reg >> 1 ^ reg >> 2 ^ reg >> 3 ^ reg >> 4 ^ reg >> 6) & 1
            reg = (reg >> 1) | (fb << 7)
        out[i] = byte
    return bytes(out)


_TC_SEQ = None


def tc_randomize(data):
    global _TC_SEQ
    if _TC_SEQ is None:
        _TC_SEQ = _tc_sequence(255)
    seq = _TC_SEQ
    out = bytearray(data)
    for i in range(len(out)):
        out[i] ^= seq[i % 255]
    return bytes(out)


class CltuReceiver:
    """Streaming CLTU receiver: finds start sequences, decodes codeblocks, yields frame bytes.

    An uncorrectable codeblock that is not the tail abandons the CLTU (counted in
    `aborted`); the receiver then searches for the next start sequence.
    """

    def __init__(self, max_blocks=160, randomize=False):
        self.max_blocks = max_blocks
        self.randomize = randomize
        self._buf = bytearray()
        self._data = None
        self.cltus = 0
        self.aborted = 0
        self.corrected_bits = 0
        self.skipped = 0

    def feed(self, chunk):
        self._buf += chunk
        out = []
        buf = self._buf
        pos = 0
        while True:
            if self._data is None:
                idx = buf.find(START, pos)
                if idx < 0:
                    keep = max(pos, len(buf) - 1)
                    self.skipped += keep - pos
                    pos = keep
                    break
                self.skipped += idx - pos
                pos = idx + 2
                self._data = bytearray()
                continue
            if len(buf) - pos < BLOCK_LEN:
                break
            block = buf[pos : pos + BLOCK_LEN]
            pos += BLOCK_LEN
            try:
                info, n = decode_block(block)
            except UncorrectableError:
                if bytes(block) == TAIL and self._data:
                    data = bytes(self._data)
                    out.append(tc_randomize(data) if self.randomize else data)
                    self.cltus += 1
                else:
                    self.aborted += 1
                self._data = None
                continue
            self.corrected_bits += n
            self._data += info
            if len(self._data) > self.max_blocks * INFO_LEN:
                self.aborted += 1
                self._data = None
        self._buf = buf[pos:]
        return out
