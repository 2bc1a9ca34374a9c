"""CRC-16-CCITT (poly 0x1021, init 0xFFFF, no reflection, no final XOR).

Used for the TM/TC frame error control field (CCSDS 132.0-B / 232.0-B) and the
PUS packet error control field (ECSS-E-ST-70-41C). Also known as
CRC-16/CCITT-FALSE; its check value over b"123456789" is 0x29B1.
"""

from array import array

from protocols._accel import BUFFER, native, readable
from protocols._viper import hot as _hot
from protocols.errors import ArgumentError


def _make_table():
    # 16-bit entries: 512 B where a tuple of ints takes 1 KB on a 32-bit board
    table = array("H", bytes(512))
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table[byte] = crc & 0xFFFF
    return table


_TABLE = _make_table()


def _check(data, init):
    if not readable(data):
        raise ArgumentError("crc.data", data, BUFFER)
    if type(init) is not int or init < 0 or init > 0xFFFF:
        raise ArgumentError("crc.init", init, "an int from 0 to 0xFFFF")


def crc16_py(data, init=0xFFFF):
    """CRC of `data` (bytes, bytearray or memoryview) continuing from `init` (an int 0..0xFFFF)."""
    _check(data, init)
    crc = init
    table = _TABLE
    for b in data:
        crc = ((crc << 8) & 0xFF00) ^ table[(crc >> 8) ^ b]
    return crc


def crc16_viper(data, init=0xFFFF):
    """crc16_py in @micropython.viper (MicroPython with an emitter only): same checks, same value."""
    _check(data, init)
    return _hot.crc16(data, len(data), init)


if native is not None:
    IMPL = "native"  # the crc16 in use: "native" (C core), "viper" or "pure"
    crc16 = native.crc16
elif _hot is not None:
    IMPL = "viper"
    crc16 = crc16_viper
else:
    IMPL = "pure"
    crc16 = crc16_py


def crc16_ok(data):
    """True when `data` ends with the big-endian CRC of what precedes it."""
    return len(data) >= 2 and crc16(data) == 0
