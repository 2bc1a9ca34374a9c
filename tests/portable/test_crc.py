"""CRC-16-CCITT against the catalogue check value and hand-derived properties."""

from protocols import crc


def test_check_value_of_catalogue():
    # CRC-16/CCITT-FALSE check value (Greg Cook's catalogue of parametrised CRC algorithms)
    assert crc.crc16(b"123456789") == 0x29B1


def test_empty_input_returns_init():
    assert crc.crc16(b"") == 0xFFFF
    assert crc.crc16(b"", 0x1D0F) == 0x1D0F


def test_single_zero_byte_hand_derived():
    # 0xFFFF register, byte 0x00: table[0xFF] ^ 0xFF00; table[0xFF] = 0x1EF0 (8 shifts of 0xFF00)
    assert crc.crc16(b"\x00") == 0xE1F0


def test_incremental_equals_whole():
    data = bytes(range(200))
    assert crc.crc16(data[120:], crc.crc16(data[:120])) == crc.crc16(data)


def test_appended_crc_checks_to_zero():
    data = bytearray(b"CCSDS frame body")
    value = crc.crc16(data)
    data.append(value >> 8)
    data.append(value & 0xFF)
    assert crc.crc16_ok(data)
    data[3] ^= 0x10
    assert not crc.crc16_ok(data)


def test_accepts_memoryview_and_bytearray():
    data = bytearray(b"123456789")
    assert crc.crc16(memoryview(data)) == 0x29B1
    assert crc.crc16(data) == 0x29B1
