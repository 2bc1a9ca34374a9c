"""RS(255,223) decoder (CCSDS 131.0-B), the ground's half of protocols.rs.

A spacecraft only encodes (its uplink is protected by the CLTU's BCH code), so a board never
loads this module; rs.decode and rs.decode_batch import it on first use."""

from protocols._accel import BUFFER, native, readable
from protocols.errors import ArgumentError, LengthError, UncorrectableError
from protocols.rs import (
    FCR,
    FROM_DUAL,
    GEN_PRIM_POWER,
    N_MAX,
    NROOTS,
    TO_DUAL,
    _check_interleave,
    field,
)

EXP, LOG = field()


def gf_mul(a, b):
    if a == 0 or b == 0:
        return 0
    return EXP[LOG[a] + LOG[b]]


def _gamma_pow(e):
    """gamma^e = alpha^(11 e)."""
    return EXP[(GEN_PRIM_POWER * e) % 255]


# _ROOT_MUL[j*256 + s] = s * gamma^(FCR+j): one Horner step of syndrome j. Built on the first
# pure decode: where the C core decodes (CPython), the 8 KiB table is never needed.
_ROOT_MUL = None


def _root_mul():
    global _ROOT_MUL
    if _ROOT_MUL is None:
        table = bytearray(NROOTS * 256)
        for j in range(NROOTS):
            r = _gamma_pow(FCR + j)
            base = j * 256
            for s in range(256):
                table[base + s] = gf_mul(s, r)
        _ROOT_MUL = table
    return _ROOT_MUL


def _syndromes(cw, synd):
    """Fill synd[0..31] for codeword cw (conventional basis); True when all are zero."""
    rm = _ROOT_MUL if _ROOT_MUL is not None else _root_mul()
    clean = True
    for j in range(NROOTS):
        base = j << 8
        s = 0
        for b in cw:
            s = rm[base + s] ^ b
        synd[j] = s
        if s:
            clean = False
    return clean


def _poly_eval(poly, x):
    """Evaluate poly (lowest degree first) at x."""
    y = 0
    for i in range(len(poly) - 1, -1, -1):
        y = gf_mul(y, x) ^ poly[i]
    return y


def _correct(cw, synd, index):
    """Correct codeword cw (bytearray, conventional) in place; return the number of symbols fixed."""
    nn = len(cw)
    # Berlekamp-Massey: error locator lam (lowest degree first)
    lam = [1] + [0] * NROOTS
    prev = [1] + [0] * NROOTS
    length = 0
    shift = 1
    b = 1
    for r in range(NROOTS):
        delta = synd[r]
        for i in range(1, length + 1):
            delta ^= gf_mul(lam[i], synd[r - i])
        if delta == 0:
            shift += 1
            continue
        coef = gf_mul(delta, EXP[255 - LOG[b]])
        if 2 * length <= r:
            saved = lam[:]
            for i in range(shift, NROOTS + 1):
                lam[i] ^= gf_mul(coef, prev[i - shift])
            length = r + 1 - length
            prev = saved
            b = delta
            shift = 1
        else:
            for i in range(shift, NROOTS + 1):
                lam[i] ^= gf_mul(coef, prev[i - shift])
            shift += 1
    deg = NROOTS
    while deg > 0 and lam[deg] == 0:
        deg -= 1
    if deg != length or deg > NROOTS // 2:
        raise UncorrectableError("rs.codeword", index, "error locator degree %d exceeds capability" % deg)
    # omega = S(x) * lam(x) mod x^32
    omega = [0] * NROOTS
    for i in range(NROOTS):
        acc = 0
        for k in range(min(i, deg) + 1):
            acc ^= gf_mul(lam[k], synd[i - k])
        omega[i] = acc
    # Chien search over the transmitted positions only: position p has degree nn-1-p, X = gamma^d
    fixes = []
    for p in range(nn):
        d = nn - 1 - p
        xinv = _gamma_pow(-d % 255)
        if _poly_eval(lam[: deg + 1], xinv) == 0:
            fixes.append((p, d, xinv))
    if len(fixes) != deg:
        raise UncorrectableError(
            "rs.codeword", index, "%d error locations found for degree %d" % (len(fixes), deg)
        )
    for p, d, xinv in fixes:
        # Forney: e = X^(1-FCR) * omega(X^-1) / lam'(X^-1); lam' keeps the odd terms
        num = _poly_eval(omega, xinv)
        den = 0
        for i in range(1, deg + 1, 2):
            den ^= gf_mul(lam[i], _gamma_pow(-d * (i - 1) % 255))
        if den == 0:
            raise UncorrectableError("rs.codeword", index, "Forney denominator is zero")
        mag = gf_mul(gf_mul(num, _gamma_pow(d * (1 - FCR) % 255)), EXP[255 - LOG[den]])
        cw[p] ^= mag
    return deg


def _block_geometry(n, interleave):
    _check_interleave(interleave)
    if n % interleave:
        raise LengthError("rs.codeblock", 0, n - n % interleave, n)
    nn = n // interleave
    if nn < NROOTS + 1:
        raise LengthError("rs.codeblock", 0, (NROOTS + 1) * interleave, n)
    if nn > N_MAX:
        raise LengthError("rs.codeblock", 0, N_MAX * interleave, n)
    return nn


def _decode_block(block, interleave, dual_basis, synd):
    n = len(block)
    nn = _block_geometry(n, interleave)
    k = nn - NROOTS
    data = bytearray(block[: k * interleave])
    cw = bytearray(nn)
    corrected = 0
    tal1 = FROM_DUAL
    for c in range(interleave):
        pos = c
        for i in range(nn):  # de-interleave (MicroPython has no extended slices)
            cw[i] = tal1[block[pos]] if dual_basis else block[pos]
            pos += interleave
        if _syndromes(cw, synd):
            continue
        fixed = _correct(cw, synd, c)
        # the corrected word must be a codeword: catches a locator that fits but lies
        if not _syndromes(cw, synd):
            raise UncorrectableError("rs.codeword", c, "residual syndrome after correction")
        corrected += fixed
        pos = c
        for m in range(k):
            v = cw[m]
            data[pos] = TO_DUAL[v] if dual_basis else v
            pos += interleave
    return data, corrected


def decode_py(codeblock, interleave=1, dual_basis=True):
    """(data, corrected symbols) of a codeblock; UncorrectableError names the failing codeword."""
    if not readable(codeblock):
        raise ArgumentError("rs.codeblock", codeblock, BUFFER)
    synd = bytearray(NROOTS)
    data, corrected = _decode_block(codeblock, interleave, dual_basis, synd)
    return bytes(data), corrected


def decode_batch_py(blocks, block_len, interleave=1, dual_basis=True):
    """Decode len(blocks)//block_len codeblocks laid end to end.

    Returns (data of every block concatenated, corrected counts); an uncorrectable
    block counts -1 and its data is passed through unmodified.
    """
    if not readable(blocks):
        raise ArgumentError("rs.blocks", blocks, BUFFER)
    if type(block_len) is not int:  # its range is the codeblock geometry's (LengthError)
        raise ArgumentError("rs.block_len", block_len, "an int")
    _block_geometry(block_len, interleave)
    if len(blocks) % block_len:
        raise LengthError("rs.blocks", 0, len(blocks) - len(blocks) % block_len, len(blocks))
    k_bytes = block_len - NROOTS * interleave
    synd = bytearray(NROOTS)
    out = bytearray()
    counts = []
    for start in range(0, len(blocks), block_len):
        block = blocks[start : start + block_len]
        try:
            data, corrected = _decode_block(block, interleave, dual_basis, synd)
        except UncorrectableError:
            data, corrected = block[:k_bytes], -1
        out += data
        counts.append(corrected)
    return bytes(out), counts


if native is not None:
    decode = native.decode
    decode_batch = native.decode_batch
else:
    decode = decode_py
    decode_batch = decode_batch_py
