"""TC transfer frames (CCSDS 232.0-B)."""

from _check import raises, unhex

from protocols import errors, tcframe


def test_header_bits_by_hand():
    f = tcframe.TcFrame(0x123, 5, b"\xaa\xbb", seq=7, has_fecf=False)
    # 00 0 0 00 0100100011 -> 0x0123 ; VCID 000101, length 7-1=6 -> 0001 0100 0000 0110 = 0x1406 ; 07
    assert f.pack() == unhex("0123 1406 07 AABB")


def test_round_trip_with_segment_header_and_crc():
    f = tcframe.TcFrame(42, 1, b"packet", seq=200, map_id=3)
    raw = f.pack()
    assert raw[5] == 0xC3  # unsegmented 11, MAP 3
    back = tcframe.TcFrame.unpack(raw, has_segment_header=True)
    assert back == f and back.map_id == 3 and back.seq == 200


def test_control_commands():
    unlock = tcframe.TcFrame(42, 0, tcframe.UNLOCK, bypass=True, control=True)
    back = tcframe.TcFrame.unpack(unlock.pack())
    assert back.control and back.bypass and back.data == b"\x00"
    assert tcframe.set_vr(9) == unhex("82 00 09")


def test_errors():
    raw = bytearray(tcframe.TcFrame(42, 1, b"abc").pack())
    exc = raises(errors.LengthError, tcframe.TcFrame.unpack, bytes(raw) + b"\x00")
    assert exc.field == "tcframe.frame_length"
    raw[6] ^= 0x40
    raises(errors.CrcError, tcframe.TcFrame.unpack, bytes(raw))
    raises(errors.TruncatedError, tcframe.TcFrame.unpack, b"\x00\x01")
    raises(errors.EncodeError, tcframe.TcFrame(42, 1, bytes(1020)).pack)
    bad = tcframe.TcFrame(42, 1, b"x", has_fecf=False).pack()
    raises(errors.VersionError, tcframe.TcFrame.unpack, bytes([bad[0] | 0x80]) + bad[1:], False, False)


def test_unpack_with_cltu_fill():
    raw = tcframe.TcFrame(42, 1, b"abc").pack()
    assert tcframe.unpack_with_fill(raw + b"\x55" * 5).data == b"abc"
    raises(errors.TruncatedError, tcframe.unpack_with_fill, raw[:-1])
