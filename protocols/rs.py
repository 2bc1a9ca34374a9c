"""Reed-Solomon RS(255,223) E=16 as specified in CCSDS 131.0-B (TM sync and channel coding).

Field GF(2^8) from F(x) = x^8 + x^7 + x^2 + x + 1 (0x187), primitive alpha = x.
Code generator g(x) = prod_{j=112}^{143} (x - gamma^j) with gamma = alpha^11.

Representations: the standard transmits symbols in the dual ("Berlekamp")
basis. Data symbols go out unchanged; the encoder maps them to the conventional
basis (T^-1), computes the check symbols and maps those back (T). With
dual_basis=False the code is the plain conventional-basis code (what reedsolo
computes with fcr=112, prim=0x187, generator=alpha^11).

Interleaving depth I: byte i of a codeblock belongs to codeword i mod I, data
first, then the 32*I check symbols interleaved the same way. Shortened
codeblocks (virtual fill) leave out leading zero symbols of every codeword:
a codeblock carries I*k' data bytes with 1 <= k' <= 223.
"""

from protocols._accel import BUFFER, WRITABLE, native, readable, writable
from protocols._viper import hot as _hot
from protocols.errors import ArgumentError, LengthError, UncorrectableError

NROOTS = 32
K_MAX = 223
N_MAX = 255
FCR = 112
GEN_PRIM_POWER = 11
INTERLEAVE_DEPTHS = (1, 2, 3, 4, 5, 8)

# --- GF(2^8) tables -----------------------------------------------------------------------------
EXP = bytearray(512)  # EXP[i] = alpha^i, doubled so EXP[a + b] needs no reduction
LOG = bytearray(256)  # LOG[0] is unused


def _build_field():
    x = 1
    for i in range(255):
        EXP[i] = x
        LOG[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x187
    for i in range(255, 512):
        EXP[i] = EXP[i - 255]


_build_field()


def gf_mul(a, b):
    if a == 0 or b == 0:
        return 0
    return EXP[LOG[a] + LOG[b]]


def _gamma_pow(e):
    """gamma^e = alpha^(11 e)."""
    return EXP[(GEN_PRIM_POWER * e) % 255]


# --- dual basis -----------------------------------------------------------------------------------
# Rows of the 8x8 conversion matrix T (conventional -> Berlekamp/dual) of CCSDS 131.0-B,
# written as the image of each conventional bit, MSB first. TAL[v] = v*T over GF(2).
_T_ROWS = (0x8D, 0xEF, 0xEC, 0x86, 0xFA, 0x99, 0xAF, 0x7B)


def _build_dual():
    tal = bytearray(256)
    tal1 = bytearray(256)
    for v in range(256):
        r = 0
        for bit in range(8):
            if v & (0x80 >> bit):
                r ^= _T_ROWS[bit]
        tal[v] = r
    for v in range(256):
        tal1[tal[v]] = v
    return bytes(tal), bytes(tal1)


TO_DUAL, FROM_DUAL = _build_dual()  # conventional -> dual, dual -> conventional

# --- generator polynomial and multiplication tables ---------------------------------------------


def _build_generator():
    g = bytearray(NROOTS + 1)  # g[0] is the x^32 coefficient (1), g[32] the constant term
    g[0] = 1
    deg = 0
    for j in range(FCR, FCR + NROOTS):
        root = _gamma_pow(j)
        deg += 1
        # multiply g by (x + root), coefficients highest degree first
        for i in range(deg, 0, -1):
            g[i] ^= gf_mul(g[i - 1], root)
    return bytes(g)


GENERATOR = _build_generator()

# _GEN_MUL[f*32 + i] = f * g[i+1]: the LFSR update row for feedback f, 32 contiguous bytes (ints
# < 256 only, so the encoder loop allocates nothing on MicroPython and CPython alike; the viper
# encoder reads a row as eight 32-bit words)
_GEN_MUL = bytearray(256 * NROOTS)
# _ROOT_MUL[j*256 + s] = s * gamma^(FCR+j): one Horner step of syndrome j. Built on the first
# decode: a spacecraft only encodes, and 8 KiB is a lot of a MicroPython heap.
_ROOT_MUL = None


def _build_mul_tables():
    for i in range(NROOTS):
        c = GENERATOR[i + 1]
        for s in range(256):
            _GEN_MUL[(s << 5) + i] = gf_mul(s, c)


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


_build_mul_tables()

_PARITY = bytearray(NROOTS)  # encoder scratch register


def _check_interleave(interleave):
    if type(interleave) is not int or interleave not in INTERLEAVE_DEPTHS:
        raise ArgumentError("rs.interleave", interleave, "one of 1, 2, 3, 4, 5, 8")


def _data_len_ok(n, interleave):
    if n == 0 or n % interleave or n > K_MAX * interleave:
        raise LengthError("rs.data", 0, min(max(n - n % interleave, interleave), K_MAX * interleave), n)


# --- encoder ----------------------------------------------------------------------------------------


def _encode_into_args(data, out, interleave):
    """Check encode_into's arguments (both paths); the codeblock length."""
    if not readable(data):
        raise ArgumentError("rs.data", data, BUFFER)
    if not writable(out):
        raise ArgumentError("rs.out", out, WRITABLE)
    _check_interleave(interleave)
    n = len(data)
    _data_len_ok(n, interleave)
    total = n + NROOTS * interleave
    if len(out) < total:
        raise LengthError("rs.out", 0, total, len(out))
    return total


def encode_into_py(data, out, interleave=1, dual_basis=True):
    """Write the codeblock for `data` into `out` (len(data) + 32*I bytes); allocates nothing."""
    total = _encode_into_args(data, out, interleave)
    k = len(data) // interleave
    reg = _PARITY
    gen = _GEN_MUL
    tal = TO_DUAL
    tal1 = FROM_DUAL
    for cw in range(interleave):
        for i in range(NROOTS):
            reg[i] = 0
        pos = cw
        for _ in range(k):
            d = data[pos]
            out[pos] = d
            if dual_basis:
                d = tal1[d]
            fb = d ^ reg[0]
            if fb:
                row = fb << 5
                for i in range(NROOTS - 1):
                    reg[i] = reg[i + 1] ^ gen[row + i]
                reg[NROOTS - 1] = gen[row + NROOTS - 1]
            else:
                for i in range(NROOTS - 1):
                    reg[i] = reg[i + 1]
                reg[NROOTS - 1] = 0
            pos += interleave
        for i in range(NROOTS):
            out[pos] = tal[reg[i]] if dual_basis else reg[i]
            pos += interleave
    return total


def _encode_with(encode_into, data, interleave, dual_basis):
    """Codeblock bytes from `encode_into` (the pure or the viper encoder): same checks for both."""
    if not readable(data):
        raise ArgumentError("rs.data", data, BUFFER)
    _check_interleave(interleave)
    _data_len_ok(len(data), interleave)
    out = bytearray(len(data) + NROOTS * interleave)
    encode_into(data, out, interleave, dual_basis)
    return bytes(out)


def encode_py(data, interleave=1, dual_basis=True):
    """Codeblock bytes: data followed by the 32*I interleaved check symbols."""
    return _encode_with(encode_into_py, data, interleave, dual_basis)


# --- decoder ----------------------------------------------------------------------------------------


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


def encode_into_viper(data, out, interleave=1, dual_basis=True):
    """encode_into_py in @micropython.viper (MicroPython with an emitter only): same checks, bytes."""
    total = _encode_into_args(data, out, interleave)
    if type(out) is memoryview:  # MicroPython cannot tell a read-only one: it raises here, as the pure loop
        out[0] = out[0]  # does on its first write (viper would write into the bytes object)
    _hot.rs_encode(data, out, len(data) // interleave, interleave | (256 if dual_basis else 0))
    return total


def encode_viper(data, interleave=1, dual_basis=True):
    """encode_py through encode_into_viper."""
    return _encode_with(encode_into_viper, data, interleave, dual_basis)


if native is not None:
    IMPL = "native"  # the encoder in use: "native" (C core), "viper" or "pure"
    encode = native.encode
    encode_into = native.encode_into
    decode = native.decode
    decode_batch = native.decode_batch
else:
    IMPL = "pure"
    encode = encode_py
    encode_into = encode_into_py
    decode = decode_py
    decode_batch = decode_batch_py
    if _hot is not None:
        _hot.bind("_RS_GEN", _GEN_MUL)
        _hot.bind("_RS_TO", TO_DUAL)
        _hot.bind("_RS_FROM", FROM_DUAL)
        IMPL = "viper"
        encode = encode_viper
        encode_into = encode_into_viper
