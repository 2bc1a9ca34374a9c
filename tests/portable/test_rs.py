"""RS(255,223) CCSDS: round trips, correction up to 16 symbols, failures beyond, both bases."""

from _check import raises

from protocols import errors, rs


def _data(n, seed=7):
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


def _corrupt(block, positions, xor=0x5A):
    b = bytearray(block)
    for p in positions:
        b[p] ^= xor
    return bytes(b)


def test_field_tables():
    # alpha^8 = x^7 + x^2 + x + 1 = 0x87 from F(x) = x^8 + x^7 + x^2 + x + 1
    exp, log = rs.field()
    assert exp[8] == 0x87
    assert exp[255] == 1 and exp[0] == 1
    seen = bytearray(256)
    for i in range(255):
        seen[exp[i]] = 1
        assert log[exp[i]] == i
    assert sum(seen) == 255 and seen[0] == 0  # alpha is primitive


def test_generator_is_palindromic():
    # roots gamma^j for j = 112..143 are symmetric about gamma^127.5, so g(x) is self-reciprocal
    # (CCSDS 131.0-B notes this; it is why the encoder needs only 16 distinct multipliers)
    g = rs.GENERATOR
    assert len(g) == 33 and g[0] == 1 and g[32] == 1
    for i in range(33):
        assert g[i] == g[32 - i]


def test_dual_basis_tables_are_inverse():
    for v in range(256):
        assert rs.FROM_DUAL[rs.TO_DUAL[v]] == v
    # published Berlekamp conversion values (conventional 1, 2, 3, 4 -> 0x7B, 0xAF, 0xD4, 0x99)
    assert bytes(rs.TO_DUAL[1:5]) == b"\x7b\xaf\xd4\x99"


def test_clean_round_trip_every_interleave_and_basis():
    for depth in rs.INTERLEAVE_DEPTHS:
        data = _data(223 * depth, depth)
        for dual in (True, False):
            block = rs.encode(data, depth, dual)
            assert len(block) == 255 * depth
            assert block[: len(data)] == data
            out, fixed = rs.decode(block, depth, dual)
            assert out == data and fixed == 0


def test_bases_differ_only_in_check_symbols():
    data = _data(223)
    a = rs.encode(data, 1, True)
    b = rs.encode(data, 1, False)
    assert a[:223] == b[:223] and a[223:] != b[223:]


def test_corrects_sixteen_errors_per_codeword():
    data = _data(223 * 2, 3)
    block = rs.encode(data, 2)
    # 16 errors in each of the two codewords: even positions belong to codeword 0
    bad = _corrupt(block, [2 * i for i in range(0, 240, 15)] + [2 * i + 1 for i in range(3, 255, 16)])
    out, fixed = rs.decode(bad, 2)
    assert out == data
    assert fixed == 32


def test_shortened_codeblock_virtual_fill():
    data = _data(100 * 3, 11)
    block = rs.encode(data, 3)
    assert len(block) == 132 * 3
    bad = _corrupt(block, (0, 1, 2, 50, 200, 395))
    out, fixed = rs.decode(bad, 3)
    assert out == data and fixed == 6


def test_errors_in_check_symbols_are_counted():
    data = _data(50)
    block = rs.encode(data)
    out, fixed = rs.decode(_corrupt(block, (60, 81)), 1)
    assert out == data and fixed == 2


def test_seventeen_errors_are_not_silently_accepted():
    data = _data(223, 5)
    block = rs.encode(data)
    bad = _corrupt(block, range(0, 17 * 13, 13))
    try:
        out, _fixed = rs.decode(bad)
    except errors.UncorrectableError as exc:
        assert exc.field == "rs.codeword" and exc.offset == 0
        return
    # a miscorrection to another codeword is possible in theory; it must then differ from the data
    assert out != data


def test_uncorrectable_names_the_codeword():
    data = _data(223 * 4, 9)
    block = rs.encode(data, 4)
    bad = _corrupt(block, [4 * i + 2 for i in range(0, 255, 6)])  # ~43 errors in codeword 2
    exc = raises(errors.UncorrectableError, rs.decode, bad, 4)
    assert exc.offset == 2


def test_bad_lengths_and_depths():
    raises(errors.LengthError, rs.encode, b"", 1)
    raises(errors.LengthError, rs.encode, bytes(224), 1)
    raises(errors.LengthError, rs.encode, bytes(7), 2)
    raises(errors.EncodeError, rs.encode, bytes(12), 6)
    raises(errors.LengthError, rs.decode, bytes(32), 1)
    raises(errors.LengthError, rs.decode, bytes(256), 1)
    raises(errors.LengthError, rs.decode, bytes(511), 2)


def test_batch_decode_marks_bad_blocks():
    good = rs.encode(_data(223 * 2, 1), 2)
    bad = _corrupt(rs.encode(_data(223 * 2, 2), 2), range(0, 200))
    # (contiguous, not periodic: errors every 3rd/5th/15th/17th symbol form a codeword)
    fixable = _corrupt(rs.encode(_data(223 * 2, 3), 2), (0, 7))
    data, counts = rs.decode_batch(good + bad + fixable, 510, 2)
    assert counts == [0, -1, 2]
    assert data[:446] == _data(446, 1)
    assert data[446:892] == bad[:446]
    assert data[892:] == _data(446, 3)
    raises(errors.LengthError, rs.decode_batch, good + b"x", 510, 2)


def test_encode_into_reuses_buffer():
    data = _data(223 * 5)
    out = bytearray(255 * 5)
    n = rs.encode_into(data, out, 5)
    assert n == 1275 and bytes(out) == rs.encode(data, 5)
    raises(errors.LengthError, rs.encode_into, data, bytearray(1000), 5)


def test_pure_encoder_allocates_nothing_on_micropython():
    try:
        import micropython
    except ImportError:
        return  # CPython: tests/protocols/test_rs_ref.py measures it with tracemalloc
    data = _data(223 * 5)
    out = bytearray(255 * 5)
    rs.encode_into_py(data, out, 5)
    micropython.heap_lock()
    try:
        rs.encode_into_py(data, out, 5)
    finally:
        micropython.heap_unlock()
    assert bytes(out) == rs.encode_py(data, 5)
