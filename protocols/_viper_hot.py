# ruff: noqa: F821 (ptr8, ptr32 and uint are viper built-ins, known only to its compiler)
"""@micropython.viper hot paths: RS(255,223) encode, CRC-16, randomizer XOR, CLTU BCH blocks.

MicroPython only, and only on a port with a native emitter; import it through protocols/_viper.py,
never directly. mpy-cross compiles it only with -march (armv6m, armv7emsp, xtensawin, rv32imc...):
a bundle for a target without an arch leaves it out and the pure code runs.

Every function here trusts its arguments: a viper ptr8 takes any object (an int becomes an
address). The public functions in rs, crc, randomizer and cltu validate first, exactly as their
pure versions do. Nothing here allocates on the heap: loops use machine words only, tables are
bound once with bind() (module globals, read with ptr8/ptr32), the results are small ints.

Word tricks assume a little-endian machine (every MicroPython target here); _viper.py checks.
"""

import micropython

# bound by bind() from the pure modules' tables, so no table exists twice on the heap
_RS_GEN = None  # rs._GEN_MUL: 32 rows of 32 bytes, the low-nibble rows then the high-nibble rows
_RS_TO = None  # rs.TO_DUAL
_RS_FROM = None  # rs.FROM_DUAL
_BCH = None  # cltu._BCH
_SYN = None  # cltu._SYNDROME
_TAIL = None  # cltu.TAIL


def bind(name, table):
    """Give the viper code one of the pure modules' tables (called once at their import)."""
    globals()[name] = table


@micropython.viper
def rs_encode(data: ptr8, out: ptr8, k: int, geom: int):
    """RS(255,223) codeblock: k data symbols per codeword; geom = interleave | dual_basis << 8.

    The 32-symbol LFSR is eight 32-bit words (little-endian: symbol i in byte i & 3 of word
    i >> 2), so one shift is 8 word shifts and one feedback is 8 word XORs with the row of its
    low nibble and 8 with the row of its high nibble."""
    il = geom & 0xFF
    dual = geom >> 8
    gen = ptr32(_RS_GEN)
    to_dual = ptr8(_RS_TO)
    from_dual = ptr8(_RS_FROM)
    cw = 0
    while cw < il:
        r0 = uint(0)
        r1 = uint(0)
        r2 = uint(0)
        r3 = uint(0)
        r4 = uint(0)
        r5 = uint(0)
        r6 = uint(0)
        r7 = uint(0)
        pos = cw
        i = 0
        while i < k:
            d = data[pos]
            out[pos] = d
            if dual:
                d = from_dual[d]
            fb = (uint(d) ^ r0) & 0xFF
            r0 = (r0 >> 8) | ((r1 & 0xFF) << 24)
            r1 = (r1 >> 8) | ((r2 & 0xFF) << 24)
            r2 = (r2 >> 8) | ((r3 & 0xFF) << 24)
            r3 = (r3 >> 8) | ((r4 & 0xFF) << 24)
            r4 = (r4 >> 8) | ((r5 & 0xFF) << 24)
            r5 = (r5 >> 8) | ((r6 & 0xFF) << 24)
            r6 = (r6 >> 8) | ((r7 & 0xFF) << 24)
            r7 = r7 >> 8
            if fb:
                lo = int(fb & 15) << 3
                hi = (16 + int(fb >> 4)) << 3
                r0 ^= uint(gen[lo]) ^ uint(gen[hi])
                r1 ^= uint(gen[lo + 1]) ^ uint(gen[hi + 1])
                r2 ^= uint(gen[lo + 2]) ^ uint(gen[hi + 2])
                r3 ^= uint(gen[lo + 3]) ^ uint(gen[hi + 3])
                r4 ^= uint(gen[lo + 4]) ^ uint(gen[hi + 4])
                r5 ^= uint(gen[lo + 5]) ^ uint(gen[hi + 5])
                r6 ^= uint(gen[lo + 6]) ^ uint(gen[hi + 6])
                r7 ^= uint(gen[lo + 7]) ^ uint(gen[hi + 7])
            pos += il
            i += 1
        # the 32 check symbols, symbol 0 first, interleaved like the data
        w = 0
        while w < 8:
            if w == 0:
                r = r0
            elif w == 1:
                r = r1
            elif w == 2:
                r = r2
            elif w == 3:
                r = r3
            elif w == 4:
                r = r4
            elif w == 5:
                r = r5
            elif w == 6:
                r = r6
            else:
                r = r7
            b = 0
            while b < 4:
                s = int(r & 0xFF)
                out[pos] = to_dual[s] if dual else s
                r = r >> 8
                pos += il
                b += 1
            w += 1
        cw += 1


@micropython.viper
def crc16(buf: ptr8, n: int, crc: int) -> int:
    """CRC-16-CCITT (poly 0x1021) of buf[0:n] continuing from crc, without a table."""
    c = uint(crc)
    i = 0
    while i < n:
        x = ((c >> 8) ^ uint(buf[i])) & 0xFF
        x ^= x >> 4
        c = ((c << 8) ^ (x << 12) ^ (x << 5) ^ x) & 0xFFFF
        i += 1
    return int(c)


@micropython.viper
def xor_seq(buf: ptr8, start: int, end: int, seq: ptr8):
    """XOR buf[start:end] in place with the 255-byte periodic sequence seq, aligned to start."""
    i = start
    while i < end:
        stop = i + 255
        if stop > end:
            stop = end
        j = 0
        while i < stop:
            buf[i] = buf[i] ^ seq[j]
            i += 1
            j += 1


@micropython.viper
def tail_like(buf: ptr8, offset: int) -> bool:
    """True when buf[offset:offset+8] is the CLTU tail sequence with at most one bit error."""
    tail = ptr8(_TAIL)
    errors = 0
    i = 0
    while i < 8:
        x = buf[offset + i] ^ tail[i]
        while x:
            x &= x - 1
            errors += 1
        if errors > 1:
            return False
        i += 1
    return True


@micropython.viper
def bch_block(src: ptr8, offset: int, dst: ptr8, doff_correct: int) -> int:
    """cltu._decode_into: check (and fix) the BCH(63,56) codeblock at src[offset:], write its 7
    info bytes to dst[doff:], doff_correct = doff << 1 | correct. 0 or 1 corrected bits, -1 if
    uncorrectable."""
    t = ptr8(_BCH)
    doff = doff_correct >> 1
    r = 0
    i = 0
    while i < 7:
        v = src[offset + i]
        r = t[r ^ v]
        dst[doff + i] = v
        i += 1
    syn = (r >> 1) ^ (src[offset + 7] >> 1) ^ 0x7F
    if syn == 0:
        return 0
    pos = int(ptr8(_SYN)[syn])
    if not (doff_correct & 1) or pos == 0:
        return -1
    pos -= 1
    if pos < 56:
        dst[doff + (pos >> 3)] ^= 0x80 >> (pos & 7)
    return 1
