"""RS(255,223) against reedsolo (conventional basis) and the CCSDS dual-basis definition."""

from __future__ import annotations

import tracemalloc

import pytest
import reedsolo
from hypothesis import given
from hypothesis import strategies as st

from protocols import errors, rs

# reedsolo configured as the CCSDS conventional code: generator alpha^11 (0xAD), first root j=112
RSC = reedsolo.RSCodec(nsym=32, nsize=255, fcr=112, prim=0x187, generator=0xAD, c_exp=8)

data_st = st.binary(min_size=1, max_size=223)


@given(data_st)
def test_conventional_encode_equals_reedsolo(data: bytes) -> None:
    assert rs.encode_py(data, 1, dual_basis=False) == bytes(RSC.encode(data))


@given(data_st, st.data())
def test_conventional_decode_equals_reedsolo(data: bytes, draw: st.DataObject) -> None:
    block = bytearray(RSC.encode(data))
    nerr = draw.draw(st.integers(0, 16))
    for p in draw.draw(st.lists(st.integers(0, len(block) - 1), min_size=nerr, max_size=nerr, unique=True)):
        block[p] ^= draw.draw(st.integers(1, 255))
    ours, fixed = rs.decode_py(bytes(block), 1, dual_basis=False)
    theirs = bytes(RSC.decode(bytes(block))[0])
    assert ours == theirs == data
    assert fixed == nerr


@given(data_st)
def test_dual_basis_is_the_conventional_code_in_the_other_basis(data: bytes) -> None:
    # CCSDS 131.0-B: the dual-basis codeblock, mapped symbol by symbol to the conventional basis
    # (T^-1), is the conventional-basis codeword of the mapped data. Checked through reedsolo.
    dual = rs.encode_py(data, 1, dual_basis=True)
    conv = bytes(rs.FROM_DUAL[b] for b in dual)
    assert conv == bytes(RSC.encode(conv[: len(data)]))


def test_dual_basis_matrix_against_published_table() -> None:
    # libfec (Phil Karn), ccsds_tab.c, Taltab[]: conventional -> Berlekamp dual-basis table generated
    # from the CCSDS 131.0-B matrix; its first 16 entries are published there.
    taltab_first16 = bytes.fromhex("007bafd499e2364dfa81552e6318ccb7")
    assert bytes(rs.TO_DUAL[:16]) == taltab_first16


@pytest.mark.parametrize("depth", rs.INTERLEAVE_DEPTHS)
def test_interleaved_codeblock_is_made_of_reedsolo_codewords(depth: int) -> None:
    data = bytes((i * 37 + depth) & 0xFF for i in range(200 * depth))
    block = rs.encode_py(data, depth, dual_basis=False)
    for c in range(depth):
        assert block[c::depth] == bytes(RSC.encode(data[c::depth]))


@given(st.binary(min_size=0, max_size=600), st.sampled_from(rs.INTERLEAVE_DEPTHS), st.booleans())
def test_decode_garbage_raises_only_protocol_errors(blob: bytes, depth: int, dual: bool) -> None:
    try:
        data, fixed = rs.decode_py(blob, depth, dual)
    except errors.ProtocolError:
        return
    assert 0 <= fixed <= 16 * depth
    assert len(data) == len(blob) - 32 * depth


def test_pure_encoder_allocates_nothing_after_warm_up() -> None:
    data = bytes(range(223)) * 5
    out = bytearray(255 * 5)
    rs.encode_into_py(data, out, 5)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(3):
            rs.encode_into_py(data, out, 5)
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before == 0
    # transients are range iterators (a few hundred bytes at most); any copy of the data or the
    # codeblock would be >= 1115 bytes. MicroPython proves zero with heap_lock (tests/portable).
    assert peak - before < 512
