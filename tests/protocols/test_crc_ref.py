"""CRC-16-CCITT against crcmod's predefined crc-ccitt-false."""

from __future__ import annotations

import crcmod.predefined
from hypothesis import given
from hypothesis import strategies as st

from protocols import crc

REF = crcmod.predefined.mkCrcFun("crc-ccitt-false")


@given(st.binary(max_size=2048))
def test_equals_crcmod(data: bytes) -> None:
    assert crc.crc16_py(data) == REF(data)
    assert crc.crc16(data) == REF(data)


@given(st.binary(max_size=256), st.integers(0, 0xFFFF))
def test_custom_init_equals_crcmod(data: bytes, init: int) -> None:
    ref = crcmod.mkCrcFun(0x11021, initCrc=init, rev=False, xorOut=0)
    assert crc.crc16_py(data, init) == ref(data)
