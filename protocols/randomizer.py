"""CCSDS 131.0-B pseudo-randomizer for the TM synchronization and channel coding layer.

The sequence comes from the LFSR h(x) = x^8 + x^7 + x^5 + x^3 + 1 seeded with all
ones. Its period is 255 bits; a codeblock is XORed with the bit sequence from
its first bit, which as bytes repeats every 255 bytes (0xFF 0x48 0x0E 0xC0 ...).
XOR with the sequence is its own inverse.
"""

from protocols._accel import BUFFER, WRITABLE, native, readable, writable
from protocols._viper import hot as _hot
from protocols.errors import ArgumentError


def _make_sequence():
    # h(x) = x^8 + x^7 + x^5 + x^3 + 1 gives the recurrence
    # a[n+8] = a[n+7] ^ a[n+5] ^ a[n+3] ^ a[n], first 8 bits all ones.
    bits = bytearray(255 * 8)
    for n in range(8):
        bits[n] = 1
    for n in range(255 * 8 - 8):
        bits[n + 8] = bits[n + 7] ^ bits[n + 5] ^ bits[n + 3] ^ bits[n]
    out = bytearray(255)
    for i in range(255):
        byte = 0
        for k in range(8):
            byte = (byte << 1) | bits[i * 8 + k]
        out[i] = byte
    return bytes(out)


SEQUENCE = _make_sequence()


def xor_sequence_into(buf, seq, start=0, end=None):
    """XOR buf[start:end] in place with a 255-byte periodic sequence aligned to `start`.

    Shared by this randomizer and the TC randomizer in cltu (both have period 255)."""
    if end is None:
        end = len(buf)
    j = 0
    for i in range(start, end):
        buf[i] ^= seq[j]
        j += 1
        if j == 255:
            j = 0


def _window(buf, start, end):
    """Check randomize_into's arguments (both paths); the end of the window."""
    if not writable(buf):
        raise ArgumentError("randomizer.buf", buf, WRITABLE)
    n = len(buf)
    if type(start) is not int or start < 0 or start > n:
        raise ArgumentError("randomizer.start", start, "an int from 0 to len(buf)")
    if end is None:
        return n
    if type(end) is not int or end < start or end > n:
        raise ArgumentError("randomizer.end", end, "None or an int from start to len(buf)")
    return end


def randomize_into_py(buf, start=0, end=None):
    """XOR buf[start:end] in place with the sequence (aligned to `start`).

    buf: bytearray or writable memoryview; 0 <= start <= end <= len(buf), else ArgumentError."""
    xor_sequence_into(buf, SEQUENCE, start, _window(buf, start, end))


def randomize_into_viper(buf, start=0, end=None):
    """randomize_into_py in @micropython.viper (MicroPython with an emitter only): same checks."""
    end = _window(buf, start, end)
    if type(buf) is memoryview and end > start:  # a read-only one (MicroPython cannot tell) raises
        buf[start] = buf[start]  # here, as the pure loop does on its first write
    _hot.xor_seq(buf, start, end, SEQUENCE)


def _randomize_with(randomize_into, data):
    """A randomized copy through `randomize_into` (the pure or the viper loop): same checks."""
    if not readable(data):
        raise ArgumentError("randomizer.data", data, BUFFER)
    buf = bytearray(data)
    randomize_into(buf)
    return bytes(buf)


def randomize_py(data):
    """Randomized (or de-randomized) copy of `data` (bytes, bytearray or memoryview)."""
    return _randomize_with(randomize_into_py, data)


def randomize_viper(data):
    """randomize_py through randomize_into_viper."""
    return _randomize_with(randomize_into_viper, data)


if native is not None:
    IMPL = "native"  # the randomizer in use: "native" (C core), "viper" or "pure"
    randomize = native.randomize
    randomize_into = native.randomize_into
elif _hot is not None:
    IMPL = "viper"
    randomize = randomize_viper
    randomize_into = randomize_into_viper
else:
    IMPL = "pure"
    randomize = randomize_py
    randomize_into = randomize_into_py
