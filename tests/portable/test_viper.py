"""The @micropython.viper hot paths give the pure code's bytes and errors, and allocate nothing.

On MicroPython with a native emitter (the unix port) rs, crc, randomizer and cltu must have
selected viper (checked against an independent probe: can this interpreter compile a viper
function?), and the public functions are compared with the pure ones in the same run. Where no
emitter exists (the WebAssembly board) or under PROTOCOLS_PURE=1 the pure code must be selected.
On CPython the public functions are the C core (or the pure code under PROTOCOLS_PURE=1): the
same comparisons then check C against pure.
"""

import sys

from protocols import _viper, cltu, crc, randomizer, rs
from protocols.errors import ProtocolError

try:
    import micropython
except ImportError:
    micropython = None

UPY = sys.implementation.name == "micropython"


class _Lcg:
    """Deterministic pseudo-random numbers, the same on every interpreter."""

    def __init__(self, seed):
        self.state = seed

    def next(self, n):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.state >> 8) % n

    def bytes(self, n):
        out = bytearray(n)
        for i in range(n):
            out[i] = self.next(256)
        return out


def _pure_env():
    try:
        import os

        return getattr(os, "getenv", lambda _name: None)("PROTOCOLS_PURE") in ("1", "true", "yes")
    except ImportError:
        return False


def _port_has_viper():
    """Independent of protocols._viper: does this interpreter compile a viper function?"""
    if not UPY:
        return False
    try:
        exec("import micropython\n@micropython.viper\ndef _f(x: int) -> int:\n    return x + 1\n")
        return True
    except SyntaxError:
        return False


def _outcome(fn, *args):
    """('ok', result) or (exception type name, message): what a call did, to compare two paths."""
    try:
        return "ok", fn(*args)
    except (ProtocolError, TypeError, ValueError, IndexError) as exc:
        return type(exc).__name__, str(exc)


def test_the_expected_implementation_is_selected():
    mods = (rs, crc, randomizer, cltu)
    if UPY:
        want = "viper" if _port_has_viper() and not _pure_env() and sys.byteorder == "little" else "pure"
        assert (_viper.hot is not None) == (want == "viper"), _viper.REASON
        for mod in mods:
            assert want == mod.IMPL, (mod.__name__, mod.IMPL, want, _viper.REASON)
        if want == "viper":
            assert rs.encode_into is rs.encode_into_viper and rs.encode is rs.encode_viper
            assert crc.crc16 is crc.crc16_viper
            assert randomizer.randomize_into is randomizer.randomize_into_viper
            assert randomizer.randomize is randomizer.randomize_viper
        else:
            assert rs.encode_into is rs.encode_into_py and crc.crc16 is crc.crc16_py
            assert randomizer.randomize_into is randomizer.randomize_into_py
    else:
        assert _viper.hot is None  # CPython never imports the viper module
        want = "native" if rs.native is not None else "pure"
        for mod in (rs, crc, randomizer):
            assert want == mod.IMPL, (mod.__name__, mod.IMPL)
        assert cltu.IMPL == "pure"


def _rs_case(rnd, data, il, dual, slack):
    n = len(data)
    total = n + 32 * il
    want = bytearray(total + slack)
    got = bytearray(total + slack)
    for i in range(len(want)):
        want[i] = got[i] = 0xA5
    assert rs.encode_into_py(data, want, il, dual) == total
    assert rs.encode_into(data, got, il, dual) == total
    assert got == want, (n, il, dual)
    assert rs.encode(data, il, dual) == bytes(want[:total])


def test_rs_encode_matches_pure_every_depth_basis_and_shortening():
    rnd = _Lcg(11)
    for il in rs.INTERLEAVE_DEPTHS:
        for k in (1, 2, 32, 1 + rnd.next(222), 222, 223):  # virtual fill down to one symbol
            for dual in (True, False):
                _rs_case(rnd, bytes(rnd.bytes(k * il)), il, dual, rnd.next(3))


def test_rs_encode_many_random_blocks():
    rnd = _Lcg(12)
    for _ in range(40):
        il = rs.INTERLEAVE_DEPTHS[rnd.next(6)]
        k = 1 + rnd.next(223)
        data = rnd.bytes(k * il)
        if rnd.next(2):
            data = bytes(data)
        _rs_case(rnd, data, il, rnd.next(2) == 1, rnd.next(5))


def test_rs_encode_through_memoryviews_at_offsets():
    # what sync.build_cadu_into does: the codeblock lands after the ASM in a larger buffer
    rnd = _Lcg(13)
    for il in (1, 5):
        raw = rnd.bytes(223 * il + 7)
        data = memoryview(raw)[3 : 3 + 223 * il]
        total = 255 * il
        want = bytearray(total + 10)
        got = bytearray(total + 10)
        rs.encode_into_py(data, memoryview(want)[4 : 4 + total], il, True)
        rs.encode_into(data, memoryview(got)[4 : 4 + total], il, True)
        assert got == want and got[:4] == bytes(4) and got[4 + total :] == bytes(6)
        assert bytes(want[4 : 4 + total]) == rs.encode_py(bytes(data), il)


def test_rs_encode_bad_arguments_raise_as_pure():
    out = bytearray(300)
    cases = (
        ([1, 2, 3], out, 1),
        ("text", out, 1),
        (None, out, 1),
        (7, out, 1),
        (bytes(223), bytes(255), 1),
        (bytes(223), None, 1),
        (bytes(223), out, 0),
        (bytes(223), out, 6),
        (bytes(223), out, True),
        (bytes(223), out, 1.0),
        (b"", out, 1),
        (bytes(224), out, 1),
        (bytes(7), out, 2),
        (bytes(223), bytearray(254), 1),
        (bytes(446), out, 2),
        (bytes(10), memoryview(bytes(300)), 1),  # read-only: MicroPython's memoryview cannot say so
    )
    for data, o, il in cases:
        a = _outcome(rs.encode_into_py, data, o, il)
        b = _outcome(rs.encode_into, data, o, il)
        assert a[0] != "ok" and a == b, (a, b)
        assert _outcome(rs.encode_py, data, il) == _outcome(rs.encode, data, il)
    assert bytes(300) == b"\x00" * 300


def test_crc_matches_pure_at_every_length_and_init():
    rnd = _Lcg(21)
    data = rnd.bytes(1115)
    for n in (0, 1, 2, 3, 7, 8, 255, 256, 1113, 1115):
        for init in (0, 0xFFFF, 0x1D0F, rnd.next(0x10000)):
            assert crc.crc16(data[:n], init) == crc.crc16_py(data[:n], init), (n, init)
    for _ in range(100):
        a = rnd.next(1115)
        b = a + rnd.next(1116 - a)
        view = memoryview(data)[a:b]
        init = rnd.next(0x10000)
        assert crc.crc16(view, init) == crc.crc16_py(view, init) == crc.crc16_py(bytes(view), init)
    assert crc.crc16(b"123456789") == 0x29B1


def test_crc_bad_arguments_raise_as_pure():
    for args in (([1, 2],), ("ab",), (None,), (3,), (b"x", -1), (b"x", 0x10000), (b"x", True), (b"x", 1.0)):
        a = _outcome(crc.crc16_py, *args)
        assert a[0] != "ok" and a == _outcome(crc.crc16, *args), args


def test_randomizer_matches_pure_over_windows():
    rnd = _Lcg(31)
    for n in (0, 1, 254, 255, 256, 1279, 1280, 2000):
        src = rnd.bytes(n)
        for _ in range(6):
            start = rnd.next(n + 1)
            end = start + rnd.next(n - start + 1)
            a = bytearray(src)
            b = bytearray(src)
            randomizer.randomize_into_py(a, start, end)
            randomizer.randomize_into(b, start, end)
            assert a == b, (n, start, end)
        a = bytearray(src)
        b = bytearray(src)
        randomizer.randomize_into_py(a)
        randomizer.randomize_into(memoryview(b))
        assert a == b and randomizer.randomize(bytes(src)) == randomizer.randomize_py(src) == bytes(a)
    # a window of a memoryview at an offset, as sync does for each CADU
    big = rnd.bytes(1300)
    a = bytearray(big)
    b = bytearray(big)
    randomizer.randomize_into_py(memoryview(a)[17:], 4, 1283)
    randomizer.randomize_into(memoryview(b)[17:], 4, 1283)
    assert a == b


def test_randomizer_bad_arguments_raise_as_pure():
    cases = (
        (bytes(10),),
        ([0] * 10,),
        (None,),
        (bytearray(10), -1),
        (bytearray(10), 11),
        (bytearray(10), True),
        (bytearray(10), 5, 4),
        (bytearray(10), 0, 11),
        (bytearray(10), 0, 1.0),
        (memoryview(bytes(10)), 2, 5),  # read-only memoryview
    )
    for args in cases:
        a = _outcome(randomizer.randomize_into_py, *args)
        assert a[0] != "ok" and a == _outcome(randomizer.randomize_into, *args), args
    # an empty window of a read-only memoryview writes nothing on either path
    ro = memoryview(bytes(10))
    assert _outcome(randomizer.randomize_into_py, ro, 3, 3) == _outcome(randomizer.randomize_into, ro, 3, 3)
    for data in (None, 5, "ab", [1]):
        assert _outcome(randomizer.randomize_py, data) == _outcome(randomizer.randomize, data)


def _flip(buf, bit):
    buf[bit >> 3] ^= 0x80 >> (bit & 7)


def _both_cltu(fn, *args):
    """fn(*args) with cltu's viper path (if selected) and with the pure path: the two outcomes."""
    fast = _outcome(fn, *args)
    saved = cltu._hot
    cltu._hot = None  # the module's one switch: pure code for this call
    try:
        pure = _outcome(fn, *args)
    finally:
        cltu._hot = saved
    return fast, pure


def test_cltu_decode_matches_pure_with_errors_randomizer_and_modes():
    rnd = _Lcg(41)
    for n in (1, 7, 8, 49, 100, 1 + rnd.next(300)):
        frame = bytes(rnd.bytes(n))
        for randomize in (False, True):
            clean = cltu.encode(frame, randomize)
            for case in range(6):
                buf = bytearray(clean)
                nblocks = (len(buf) - 10) // 8
                if case == 1:  # one bit error in one codeblock: corrected
                    _flip(buf, 16 + rnd.next(nblocks * 64))
                elif case == 2:  # two bit errors in one codeblock: uncorrectable
                    blk = rnd.next(nblocks)
                    a = rnd.next(63)
                    _flip(buf, 16 + blk * 64 + a)
                    _flip(buf, 16 + blk * 64 + (a + 1 + rnd.next(62)) % 63)
                elif case == 3:  # one bit error in the tail
                    _flip(buf, (len(buf) - 8) * 8 + rnd.next(64))
                elif case == 4:  # one bit error per codeblock
                    for b in range(nblocks):
                        _flip(buf, 16 + b * 64 + rnd.next(63))
                elif case == 5:  # a wrecked tail
                    buf[-3] ^= 0xFF
                data = bytes(buf)
                for correct in (True, False):
                    fast, pure = _both_cltu(cltu.decode, data, randomize, correct)
                    assert fast == pure, (n, randomize, case, correct, fast, pure)
                    if case == 0:
                        assert fast[0] == "ok" and fast[1][0][:n] == frame
    # every single bit error of a codeblock, and of the tail
    clean = cltu.encode(bytes(rnd.bytes(7)))
    for bit in range(16, len(clean) * 8):
        buf = bytearray(clean)
        _flip(buf, bit)
        fast, pure = _both_cltu(cltu.decode, bytes(buf))
        assert fast == pure and fast[0] == "ok", (bit, fast, pure)
    # a list of ints is not a buffer: it must stay on the pure path (never reach a viper pointer)
    lst = list(cltu.encode(b"abc"))
    fast, pure = _both_cltu(cltu.decode, lst)
    assert fast == pure and fast[0] == "ok"


def test_cltu_receiver_matches_pure_on_a_noisy_chunked_stream():
    rnd = _Lcg(42)
    stream = bytearray(rnd.bytes(5))
    for i in range(12):
        c = bytearray(cltu.encode(bytes(rnd.bytes(1 + rnd.next(120))), i % 2 == 1))
        for _ in range(rnd.next(4)):
            _flip(c, 16 + rnd.next((len(c) - 2) * 8 - 16))
        stream += c + rnd.bytes(rnd.next(4))
    chunks = []
    pos = 0
    while pos < len(stream):
        n = 1 + rnd.next(40)
        chunks.append(bytes(stream[pos : pos + n]))
        pos += n

    def run(randomize):
        rx = cltu.CltuReceiver(randomize=randomize)
        got = []
        for ch in chunks:
            got.extend(rx.feed(ch))
        return got, rx.cltus, rx.aborted, rx.corrected_bits, rx.skipped

    for randomize in (False, True):
        fast, pure = _both_cltu(run, randomize)
        assert fast == pure and fast[0] == "ok" and fast[1][1] > 0, (fast, pure)


def _locked(fn):
    """Call fn twice, the second time under heap_lock on MicroPython; False if that allocated."""
    fn()
    if micropython is None:
        fn()
        return True
    micropython.heap_lock()
    try:
        fn()
        return True
    except MemoryError:
        return False
    finally:
        micropython.heap_unlock()


def test_hot_paths_allocate_nothing():
    rnd = _Lcg(51)
    frame = bytes(rnd.bytes(223 * 5))
    out = bytearray(255 * 5)
    want = rs.encode_py(frame, 5)
    assert _locked(lambda: rs.encode_into(frame, out, 5)) and bytes(out) == want
    view = memoryview(out)
    assert _locked(lambda: rs.encode_into(frame, view, 5, False))
    assert bytes(out) == rs.encode_py(frame, 5, False)
    buf = bytearray(rnd.bytes(1279))
    ref = bytearray(buf)
    assert _locked(lambda: randomizer.randomize_into(buf, 4, 1279))  # twice: back where it began
    assert buf == ref
    assert _locked(lambda: crc.crc16(frame)) and crc.crc16(frame) == crc.crc16_py(frame)
    hot = _viper.hot
    if hot is not None:  # the CLTU block loop (cltu.decode itself allocates its result)
        block = bytearray(cltu.encode(bytes(rnd.bytes(7)))[2:10])
        _flip(block, 5)
        info = bytearray(7)
        assert _locked(lambda: hot.tail_like(block, 0))
        assert _locked(lambda: hot.bch_block(block, 0, info, 1))
        assert hot.bch_block(block, 0, info, 1) == 1 and not hot.tail_like(block, 0)
        fixed = bytearray(info)
        assert cltu.decode_block(bytes(block)) == (bytes(fixed), 1)
