"""The ground's half of protocols.cltu: the CLTU encoder, and the one-shot decoder of a whole
CLTU (tests, tools and fuzzing; a board decodes its uplink stream with cltu.CltuReceiver and never
loads this module). The names stay reachable as protocols.cltu.<name>."""

from protocols import cltu as _cltu
from protocols._accel import readable
from protocols.cltu import (
    BLOCK_LEN,
    FILL,
    INFO_LEN,
    START_LEN,
    TAIL,
    TAIL_LEN,
    TC_SEQUENCE,
    _decode_into,
    _tail_like,
    parity_bits,
    tc_randomize_into,
)
from protocols.errors import EncodeError, LengthError, SyncError, TruncatedError, UncorrectableError


def parity_byte(buf, offset=0):
    """The codeblock's last byte: complemented parity bits, then the filler bit 0."""
    return (parity_bits(buf, offset) ^ 0x7F) << 1


def encoded_len(n):
    """Bytes of the CLTU carrying n frame bytes."""
    return START_LEN + (n + INFO_LEN - 1) // INFO_LEN * BLOCK_LEN + TAIL_LEN


def encode_into(frame, out, randomize=False):
    """Write the CLTU carrying frame into out; returns its length (allocates nothing)."""
    n = len(frame)
    if not n:
        raise EncodeError("cltu.data", "empty frame")
    total = encoded_len(n)
    if len(out) < total:
        raise EncodeError("cltu.buffer", "needs %d bytes, has %d" % (total, len(out)))
    out[0] = 0xEB
    out[1] = 0x90
    seq = TC_SEQUENCE
    pos = START_LEN
    j = 0
    s = 0
    while j < n:
        for i in range(INFO_LEN):
            b = frame[j] if j < n else FILL
            if randomize:
                b ^= seq[s]
                s += 1
                if s == 255:
                    s = 0
            out[pos + i] = b
            j += 1
        out[pos + INFO_LEN] = parity_byte(out, pos)
        pos += BLOCK_LEN
    out[pos : pos + TAIL_LEN] = TAIL
    return total


def encode(frame, randomize=False):
    """CLTU carrying frame (bytes)."""
    out = bytearray(encoded_len(len(frame)))
    encode_into(frame, out, randomize)
    return bytes(out)


def decode_block(block, offset=0, correct=True):
    """(7 corrected info bytes, corrected bit count 0/1) or UncorrectableError."""
    if len(block) - offset < BLOCK_LEN:
        raise TruncatedError("cltu.codeblock", offset, BLOCK_LEN, max(0, len(block) - offset))
    info = bytearray(INFO_LEN)
    fixed = _decode_into(block, offset, info, 0, correct)
    if fixed < 0:
        raise UncorrectableError(
            "cltu.codeblock",
            offset,
            "BCH syndrome 0x%02X: %s"
            % (
                parity_bits(block, offset) ^ (block[offset + 7] >> 1) ^ 0x7F,
                "bit error (detecting mode)" if not correct else "more than one bit error",
            ),
        )
    return bytes(info), fixed


def tc_randomize(data):
    """Randomized (or de-randomized) copy of data."""
    out = bytearray(data)
    tc_randomize_into(out)
    return bytes(out)


def decode(cltu, randomize=False, correct=True):
    """(data incl. fill, corrected bits) of exactly one whole CLTU.

    SyncError without the start sequence, UncorrectableError (offset = the failing
    codeblock), TruncatedError without a tail, LengthError for bytes after the tail.
    """
    n = len(cltu)
    if n < START_LEN + BLOCK_LEN + TAIL_LEN:
        raise TruncatedError("cltu", 0, START_LEN + BLOCK_LEN + TAIL_LEN, n)
    if cltu[0] != 0xEB or cltu[1] != 0x90:
        raise SyncError("cltu.start", 0, "start sequence 0xEB90 missing")
    out = bytearray((n - START_LEN) // BLOCK_LEN * INFO_LEN)
    olen = 0
    fixed = 0
    pos = START_LEN
    hot = (
        _cltu._hot if readable(cltu) else None
    )  # cltu._hot is the one switch  # viper reads only real buffers (a list stays pure)
    flag = 1 if correct else 0
    while True:
        if n - pos < BLOCK_LEN:
            raise TruncatedError("cltu.tail", pos, TAIL_LEN, n - pos)
        if hot is not None:
            if hot.tail_like(cltu, pos):
                break
            c = hot.bch_block(cltu, pos, out, olen << 1 | flag)
        else:
            if _tail_like(cltu, pos):
                break
            c = _decode_into(cltu, pos, out, olen, correct)
        if c < 0:
            decode_block(cltu, pos, correct)  # raises with the syndrome in the message
        fixed += c
        olen += INFO_LEN
        pos += BLOCK_LEN
    if not olen:
        raise TruncatedError("cltu.codeblocks", START_LEN, BLOCK_LEN, 0)
    if pos + TAIL_LEN != n:
        raise LengthError("cltu", pos + TAIL_LEN, pos + TAIL_LEN, n)
    if randomize:
        if hot is not None:
            hot.xor_seq(out, 0, olen, TC_SEQUENCE)
        else:
            tc_randomize_into(out, 0, olen)
    return bytes(memoryview(out)[:olen]), fixed
