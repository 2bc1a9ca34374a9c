"""CCSDS 131.0-B pseudo-randomizer."""

from _check import unhex

from protocols import randomizer


def test_first_bytes_match_the_standard():
    # CCSDS 131.0-B, pseudo-randomizer section: the sequence begins
    # 1111 1111 0100 1000 0000 1110 1100 0000 ...
    assert randomizer.SEQUENCE[:8] == unhex("FF 48 0E C0 9A 0D 70 BC")


def test_period_is_255_bytes():
    assert len(randomizer.SEQUENCE) == 255
    data = bytes(510)
    out = randomizer.randomize(data)
    assert out[:255] == out[255:] == randomizer.SEQUENCE


def test_is_its_own_inverse():
    data = bytes((i * 7 + 3) & 0xFF for i in range(1000))
    once = randomizer.randomize(data)
    assert once != data
    assert randomizer.randomize(once) == data


def test_into_works_on_a_window():
    buf = bytearray(20)
    randomizer.randomize_into(buf, 4, 12)
    assert buf[:4] == bytes(4) and buf[12:] == bytes(8)
    assert bytes(buf[4:12]) == randomizer.SEQUENCE[:8]


def test_sequence_balance():
    # a maximal-length 8-stage LFSR emits 128 ones and 127 zeros per 255-bit period
    ones = 0
    for byte in randomizer.SEQUENCE[:32]:
        for k in range(8):
            ones += byte >> k & 1
    seq_bits = 32 * 8  # 256 bits = one period + 1 bit, which is a one (sequence starts with 1s)
    assert ones == 128 + 1 and seq_bits == 256
