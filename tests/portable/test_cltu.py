"""CLTU with BCH(63,56) codeblocks and the TC randomizer (CCSDS 231.0-B).

Parity vectors are worked out by hand from g(x) = x^7 + x^6 + x^2 + 1, and checked
against a plain long division over GF(2) written out below (independent of the table
driven encoder).
"""

from _check import raises, unhex

from protocols import cltu, errors, tcframe

G = 0xC5  # x^7 + x^6 + x^2 + 1


def _long_division_parity(info):
    """Remainder of info(x) * x^7 mod g(x), bit by bit on one big integer."""
    value = 0
    for b in info:
        value = (value << 8) | b
    value <<= 7
    for shift in range(55 + 7, 6, -1):
        if value >> shift & 1:
            value ^= G << (shift - 7)
    return value


def test_all_zero_codeblock_parity_is_fe():
    # zero information bits give zero parity; complemented -> 1111111, then filler 0 -> 0xFE
    assert cltu.encode(bytes(7)) == unhex("EB90 00000000000000 FE C5C5C5C5C5C5C579")


def test_parity_of_hand_computed_codeblocks():
    # info = x^0: x^7 mod g = x^6 + x^2 + 1 = 1000101; complemented 0111010, filler 0 -> 0x74
    assert cltu.encode(unhex("00000000000001"))[9] == 0x74
    # info = x^1: x^8 mod g = x(x^6 + x^2 + 1) = x^7 + x^3 + x = x^6 + x^3 + x^2 + x + 1
    #   = 1001111; complemented 0110000 -> 0x60
    assert cltu.encode(unhex("00000000000002"))[9] == 0x60
    # the code is linear: parity bits of a sum are the sums of parity bits
    assert cltu.parity_bits(unhex("00000000000003")) == 0x45 ^ 0x4F
    for info in (unhex("01020304050607"), unhex("FFFFFFFFFFFFFF"), unhex("80000000000000"), b"CCSDS!!"):
        assert cltu.parity_bits(info) == _long_division_parity(info)
        assert cltu.parity_byte(info) == (_long_division_parity(info) ^ 0x7F) << 1


def test_fill_bytes_complete_the_last_codeblock():
    out = cltu.encode(b"\x01\x02\x03")
    assert out[2:9] == unhex("010203 55555555")
    assert len(out) == cltu.encoded_len(3) == 2 + 8 + 8
    data, fixed = cltu.decode(out)
    assert data == unhex("010203 55555555") and fixed == 0
    assert len(cltu.encode(bytes(14))) == 2 + 16 + 8


def test_encode_into_a_preallocated_buffer():
    buf = bytearray(40)
    n = cltu.encode_into(b"abcdefgh", buf)
    assert n == 26 and bytes(buf[:n]) == cltu.encode(b"abcdefgh")
    raises(errors.EncodeError, cltu.encode_into, bytes(30), buf)
    raises(errors.EncodeError, cltu.encode, b"")


def test_every_single_bit_error_is_corrected():
    msg = bytes(range(1, 22))
    good = cltu.encode(msg)
    for bit in range(3 * 64):
        bad = bytearray(good)
        bad[2 + bit // 8] ^= 0x80 >> (bit % 8)
        data, fixed = cltu.decode(bytes(bad))
        assert data == msg
        # the filler bit is outside the code: flipping it changes nothing
        assert fixed == (0 if bit % 64 == 63 else 1)


def test_every_double_bit_error_in_a_codeblock_is_detected():
    block = bytearray(cltu.encode(b"TC data")[2:10])
    count = 0
    for a in range(63):
        for b in range(a + 1, 63):
            bad = bytearray(block)
            bad[a >> 3] ^= 0x80 >> (a & 7)
            bad[b >> 3] ^= 0x80 >> (b & 7)
            raises(errors.UncorrectableError, cltu.decode_block, bad)
            count += 1
    assert count == 63 * 62 // 2


def test_double_bit_error_is_reported_with_the_codeblock_offset():
    bad = bytearray(cltu.encode(bytes(14)))
    bad[11] ^= 0x81
    exc = raises(errors.UncorrectableError, cltu.decode, bytes(bad))
    assert exc.offset == 10 and exc.field == "cltu.codeblock"


def test_error_detecting_mode_rejects_single_errors():
    bad = bytearray(cltu.encode(b"abc"))
    bad[3] ^= 0x10
    assert cltu.decode(bytes(bad))[0][:3] == b"abc"
    raises(errors.UncorrectableError, cltu.decode, bytes(bad), False, False)


def test_tail_is_uncorrectable_even_with_one_bit_error():
    raises(errors.UncorrectableError, cltu.decode_block, cltu.TAIL)
    for bit in range(64):
        tail = bytearray(cltu.TAIL)
        tail[bit >> 3] ^= 0x80 >> (bit & 7)
        raises(errors.UncorrectableError, cltu.decode_block, tail)
    ok = bytearray(cltu.encode(b"frame"))
    ok[-3] ^= 0x04  # one bit error in the tail: still the end of the CLTU
    assert cltu.decode(bytes(ok))[0][:5] == b"frame"


def test_decode_errors():
    good = cltu.encode(b"abcdefg")
    raises(errors.SyncError, cltu.decode, b"\xeb\x91" + good[2:])
    raises(errors.TruncatedError, cltu.decode, good[:-8] + b"\x00" * 4)
    raises(errors.TruncatedError, cltu.decode, good[:10])
    exc = raises(errors.LengthError, cltu.decode, good + b"\x55")
    assert exc.offset == len(good)
    raises(errors.TruncatedError, cltu.decode, b"\xeb\x90" + cltu.TAIL + cltu.TAIL)


def test_tc_randomizer_sequence_from_standard():
    # CCSDS 231.0-B TC randomizer: the sequence starts 1111 1111 0011 1001 1001 1110 0101 1010 0110 1000
    assert cltu.tc_randomize(bytes(5)) == unhex("FF399E5A68")
    assert len(cltu.TC_SEQUENCE) == 255
    data = bytes(range(200)) * 2
    assert cltu.tc_randomize(cltu.tc_randomize(data)) == data
    enc = cltu.encode(b"frame bytes", randomize=True)
    assert enc[2] == ord("f") ^ 0xFF and enc[3] == ord("r") ^ 0x39
    assert cltu.decode(enc, randomize=True)[0] == b"frame bytes" + b"\x55" * 3


def test_tc_frame_through_a_cltu():
    frame = tcframe.TcFrame(0x2A, 0, b"\x18\x01\xc0\x00\x00\x03ping", seq=5).pack()
    data, fixed = cltu.decode(cltu.encode(frame, randomize=True), randomize=True)
    back = tcframe.unpack_with_fill(data)
    assert back.seq == 5 and back.data.endswith(b"ping") and fixed == 0


def _receive(rx, stream, step):
    got = []
    for i in range(0, len(stream), step):
        got.extend(rx.feed(stream[i : i + step]))
    return got


def test_stream_receiver_with_noise_and_a_broken_cltu():
    one = cltu.encode(b"first frame")
    two = bytearray(cltu.encode(b"second frame"))
    two[5] ^= 0x11  # double error: aborted
    three = bytearray(cltu.encode(b"third"))
    three[4] ^= 0x02  # single error: corrected
    stream = b"\x00\xeb\x12noise" + one + bytes(two) + b"\x55" * 9 + bytes(three)
    for step in (1, 5, 64, len(stream)):
        rx = cltu.CltuReceiver()
        got = _receive(rx, stream, step)
        assert [g.rstrip(b"U") for g in got] == [b"first frame", b"third"]
        assert rx.aborted == 1 and rx.cltus == 2 and rx.corrected_bits == 1


def test_stream_receiver_finds_a_start_sequence_inside_a_failed_block():
    cut = cltu.encode(b"0123456789abcdef")[:12]  # a CLTU cut off after one codeblock and 2 bytes
    whole = cltu.encode(b"next one")
    for step in (1, 3, 100):
        rx = cltu.CltuReceiver()
        got = _receive(rx, cut + whole, step)
        assert got == [b"next one" + b"\x55" * 6]
        assert rx.aborted == 1


def test_stream_receiver_counts_skipped_bytes_and_derandomizes():
    stream = b"\xeb\xeb\x00\xeb" + cltu.encode(b"rnd", randomize=True) + b"\xeb"
    for step in (1, 2, 7, 50):
        rx = cltu.CltuReceiver(randomize=True)
        assert _receive(rx, stream, step) == [b"rnd" + b"\x55" * 4]
        assert rx.skipped == 4  # the trailing 0xEB may still start a CLTU


def test_stream_receiver_bounds_the_cltu_length():
    rx = cltu.CltuReceiver(max_blocks=2)
    assert rx.feed(cltu.encode(bytes(21)) + cltu.encode(b"ok")) == [b"ok" + b"\x55" * 5]
    assert rx.aborted == 1
