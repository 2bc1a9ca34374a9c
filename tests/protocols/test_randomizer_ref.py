"""Randomizer sequence from an independent bit-serial LFSR written from the polynomial."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocols import randomizer


def _reference_sequence(nbytes: int) -> bytes:
    # bit-serial: reg holds a[n..n+7], all ones at the start; h(x) = x^8 + x^7 + x^5 + x^3 + 1
    reg = [1] * 8
    bits = []
    for _ in range(nbytes * 8):
        bits.append(reg[0])
        fb = reg[7] ^ reg[5] ^ reg[3] ^ reg[0]  # a[n+8] = a[n+7] + a[n+5] + a[n+3] + a[n]
        reg = [*reg[1:], fb]
    return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def test_sequence_equals_bit_serial_lfsr() -> None:
    assert _reference_sequence(255) == randomizer.SEQUENCE


@given(st.binary(max_size=3000))
def test_pure_randomize_is_xor_with_sequence(data: bytes) -> None:
    seq = _reference_sequence(255) * (len(data) // 255 + 1)
    expect = bytes(a ^ b for a, b in zip(data, seq))
    assert randomizer.randomize_py(data) == expect
    assert randomizer.randomize(data) == expect
