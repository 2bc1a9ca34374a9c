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

The decoder is protocols/rs_decode.py: a spacecraft only encodes and never loads it;
rs.decode, rs.decode_batch, rs.decode_py and rs.decode_batch_py import it on first use.
"""

from protocols._accel import BUFFER, WRITABLE, native, readable, writable
from protocols._lazy import forward
from protocols._viper import hot as _hot
from protocols.errors import ArgumentError, LengthError

NROOTS = 32
K_MAX = 223
N_MAX = 255
FCR = 112
GEN_PRIM_POWER = 11
INTERLEAVE_DEPTHS = (1, 2, 3, 4, 5, 8)

# --- GF(2^8) -------------------------------------------------------------------------------------


def field():
    """(EXP, LOG) of the field: EXP[i] = alpha^i, doubled so EXP[a + b] needs no reduction, and
    LOG[x] (LOG[0] is unused). The encoder needs them only to build its tables at import, so a
    board does not keep them; the decoder (rs_decode) builds its own."""
    exp = bytearray(512)
    log = bytearray(256)
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x187
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


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
# The LFSR update row for feedback f is f * g[1..32]. Multiplication is linear over GF(2), so
# f * g = (f & 0xF0) * g ^ (f & 0x0F) * g: _GEN_MUL holds the rows of the 16 low nibbles
# (_GEN_MUL[l*32 + i] = l * g[i+1]) and then those of the 16 high nibbles (row 16 + h for h << 4),
# 1 KiB instead of the 8 KiB of all 256 rows (a board's heap is 90-230 KB), at one more XOR per
# symbol. Ints < 256 only, so the encoder loop allocates nothing; the viper encoder reads a row
# as eight 32-bit words.


def _encoder_tables():
    """(GENERATOR, _GEN_MUL), built from the field, which is dropped afterwards."""
    exp, log = field()

    def mul(a, b):
        return exp[log[a] + log[b]] if a and b else 0

    g = bytearray(NROOTS + 1)  # g[0] is the x^32 coefficient (1), g[32] the constant term
    g[0] = 1
    deg = 0
    for j in range(FCR, FCR + NROOTS):
        root = exp[(GEN_PRIM_POWER * j) % 255]  # gamma^j = alpha^(11 j)
        deg += 1
        # multiply g by (x + root), coefficients highest degree first
        for i in range(deg, 0, -1):
            g[i] ^= mul(g[i - 1], root)
    rows = bytearray(32 * NROOTS)
    for i in range(NROOTS):
        c = g[i + 1]
        for n in range(16):
            rows[(n << 5) + i] = mul(n, c)
            rows[((16 + n) << 5) + i] = mul(n << 4, c)
    return bytes(g), rows


GENERATOR, _GEN_MUL = _encoder_tables()

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
                lo = (fb & 15) << 5
                hi = (16 + (fb >> 4)) << 5
                for i in range(NROOTS - 1):
                    reg[i] = reg[i + 1] ^ gen[lo + i] ^ gen[hi + i]
                reg[NROOTS - 1] = gen[lo + NROOTS - 1] ^ gen[hi + NROOTS - 1]
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
else:
    IMPL = "pure"
    encode = encode_py
    encode_into = encode_into_py
    if _hot is not None:
        _hot.bind("_RS_GEN", _GEN_MUL)
        _hot.bind("_RS_TO", TO_DUAL)
        _hot.bind("_RS_FROM", FROM_DUAL)
        IMPL = "viper"
        encode = encode_viper
        encode_into = encode_into_viper

_DECODER = ("decode", "decode_batch", "decode_py", "decode_batch_py")


# the decoder, the ground's side, imported on first use
__getattr__ = forward("protocols.rs", "protocols.rs_decode", _DECODER)
