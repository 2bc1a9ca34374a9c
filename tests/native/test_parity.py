"""The C core and the pure-Python code return identical bytes and raise identical errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols import crc, errors, randomizer, rs, spacepacket, sync

wrap = pytest.importorskip("protocols._native.wrap", reason="C core not built")

DEPTHS = st.sampled_from(rs.INTERLEAVE_DEPTHS)


def _outcome(fn, *args):
    """(result, None) or (None, (exception class, field, offset))."""
    try:
        return fn(*args), None
    except errors.ProtocolError as exc:
        return None, (type(exc), exc.field, exc.offset)


def same(pure, native, *args):
    a = _outcome(pure, *args)
    b = _outcome(native, *args)
    assert a == b
    return a


@given(st.binary(max_size=3000), st.integers(0, 0xFFFF))
def test_crc16(data, init):
    assert crc.crc16_py(data, init) == wrap.crc16(data, init)


@given(st.binary(max_size=2000), st.data())
def test_randomizer(data, draw):
    assert randomizer.randomize_py(data) == wrap.randomize(data)
    start = draw.draw(st.integers(0, len(data)))
    end = draw.draw(st.integers(start, len(data)))
    a, b = bytearray(data), bytearray(data)
    randomizer.randomize_into_py(a, start, end)
    wrap.randomize_into(b, start, end)
    assert a == b


@given(st.binary(min_size=0, max_size=1800), st.integers(0, 9), st.booleans())
def test_rs_encode_including_bad_arguments(data, depth, dual):
    same(rs.encode_py, wrap.encode, data, depth, dual)


@given(st.integers(1, 223), DEPTHS, st.booleans(), st.data())
def test_rs_decode_with_errors(k, depth, dual, draw):
    data = draw.draw(st.binary(min_size=k * depth, max_size=k * depth))
    block = bytearray(rs.encode_py(data, depth, dual))
    nerr = draw.draw(st.integers(0, 20 * depth))
    for p in draw.draw(st.lists(st.integers(0, len(block) - 1), min_size=nerr, max_size=nerr)):
        block[p] ^= draw.draw(st.integers(1, 255))
    result, error = same(rs.decode_py, wrap.decode, bytes(block), depth, dual)
    if error is None and nerr <= 16:
        assert result[0] == data


@given(st.binary(max_size=700), DEPTHS, st.booleans())
def test_rs_decode_garbage(blob, depth, dual):
    same(rs.decode_py, wrap.decode, blob, depth, dual)


@given(st.integers(1, 6), st.integers(1, 223), DEPTHS, st.data())
def test_rs_decode_batch(nblocks, k, depth, draw):
    blocks = bytearray()
    for _ in range(nblocks):
        blocks += rs.encode_py(draw.draw(st.binary(min_size=k * depth, max_size=k * depth)), depth)
    for _ in range(draw.draw(st.integers(0, 60))):
        blocks[draw.draw(st.integers(0, len(blocks) - 1))] ^= draw.draw(st.integers(1, 255))
    same(rs.decode_batch_py, wrap.decode_batch, bytes(blocks), (k + 32) * depth, depth, True)


@given(st.binary(max_size=500), st.integers(0, 600), st.integers(0, 600))
def test_find_asm(noise, start, end):
    buf = noise[: len(noise) // 2] + sync.ASM + noise[len(noise) // 2 :]
    assert sync.find_asm_py(buf, start, end) == wrap.find_asm(buf, start, end)
    assert sync.find_asm_py(buf) == wrap.find_asm(buf) == len(noise) // 2


@given(st.binary(max_size=800), st.integers(0, 100))
def test_scan_packets(blob, start):
    assert spacepacket.scan_packets_py(blob, start) == wrap.scan_packets(blob, start)


@given(st.binary(max_size=800), st.integers(0, 100), st.integers(7, 300))
def test_split_packets(blob, start, max_len):
    assert spacepacket.split_packets_py(blob, start, max_len) == wrap.split_packets(blob, start, max_len)


@given(st.binary(max_size=800), st.integers(0, 100), st.integers(7, 300))
def test_scan_arrays(blob, start, max_len):
    a = spacepacket.scan_arrays_py(blob, start, max_len)
    b = wrap.scan_arrays(blob, start, max_len)
    assert (list(a[0]), list(a[1]), *a[2:]) == (list(b[0]), list(b[1]), *b[2:])
