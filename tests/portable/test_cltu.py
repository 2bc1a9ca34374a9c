"""CLTU with BCH(63,56) (CCSDS 231.0-B)."""

from _check import raises, unhex

from protocols import cltu, errors


def test_all_zero_codeblock_parity_is_fe():
    # zero information bits give zero parity; complemented -> 1111111, then filler 0 -> 0xFE
    assert cltu.encode(bytes(7)) == unhex("EB90 00000000000000 FE C5C5C5C5C5C5C579")


def test_fill_bytes_complete_the_last_codeblock():
    out = cltu.encode(b"\x01\x02\x03")
    assert out[2:9] == unhex("010203 55555555")
    data, fixed = cltu.decode(out)
    assert data == unhex("010203 55555555") and fixed == 0


def test_every_single_bit_error_is_corrected():
    msg = bytes(range(1, 22))
    good = cltu.encode(msg)
    for bit in range(3 * 64):
        if bit % 64 == 63:
            continue  # the filler bit is not part of the code
        bad = bytearray(good)
        bad[2 + bit // 8] ^= 0x80 >> (bit % 8)
        data, fixed = cltu.decode(bytes(bad))
        assert data == msg and fixed == 1


def test_double_bit_error_is_detected_with_offset():
    bad = bytearray(cltu.encode(bytes(14)))
    bad[11] ^= 0x81
    exc = raises(errors.UncorrectableError, cltu.decode, bytes(bad))
    assert exc.offset == 10


def test_tail_is_uncorrectable_by_design():
    raises(errors.UncorrectableError, cltu.decode_block, cltu.TAIL)


def test_tc_randomizer_sequence_from_standard():
    # CCSDS 231.0-B: the TC randomizer sequence starts 1111 1111 0011 1001 1001 1110 ...
    assert cltu.tc_randomize(bytes(3)) == unhex("FF399E")
    data = b"frame bytes"
    assert cltu.decode(cltu.encode(data, randomize=True), randomize=True)[0][: len(data)] == data


def test_stream_receiver_with_noise_and_a_broken_cltu():
    one = cltu.encode(b"first frame")
    two = bytearray(cltu.encode(b"second frame"))
    two[5] ^= 0x11  # double error: aborted
    three = cltu.encode(b"third")
    stream = b"\x00\xeb\x12noise" + one + bytes(two) + b"\x55" * 9 + three
    rx = cltu.CltuReceiver()
    got = []
    for i in range(0, len(stream), 5):
        got.extend(rx.feed(stream[i : i + 5]))
    assert [g.rstrip(b"U") for g in got] == [b"first frame", b"third"]
    assert rx.aborted == 1 and rx.cltus == 2
