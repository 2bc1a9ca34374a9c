"""TC transfer frames and COP-1 control commands (CCSDS 232.0-B).

Header vectors are derived by hand from the bit layout of section 4.1.2.
"""

from _check import raises, unhex

from protocols import errors, tcframe
from protocols.crc import crc16


def _with_crc(body):
    c = crc16(body)
    return bytes(body) + bytes((c >> 8, c & 0xFF))


def test_header_bits_by_hand():
    f = tcframe.TcFrame(0x123, 5, b"\xaa\xbb", seq=7, has_fecf=False)
    # 00 0 0 00 0100100011 -> 0x0123 ; VCID 000101, length 7-1=6 -> 0001 0100 0000 0110 = 0x1406 ; 07
    assert f.pack() == unhex("0123 1406 07 AABB")
    bd = tcframe.TcFrame(0x3FF, 63, b"\x01", seq=255, bypass=True)
    # 00 1 0 00 1111111111 -> 0x23FF ; 111111 + length 8-1=7 -> 1111 1100 0000 0111 = 0xFC07 ; FF
    assert bd.pack() == _with_crc(unhex("23FF FC07 FF 01"))
    assert bd.kind() == "BD" and f.kind() == "AD"


def test_round_trip_with_segment_header_and_crc():
    f = tcframe.TcFrame(42, 1, b"packet", seq=200, map_id=3)
    raw = f.pack()
    assert raw[5] == 0xC3  # unsegmented 11, MAP 3
    back = tcframe.TcFrame.unpack(raw, has_segment_header=True)
    assert back == f and back.map_id == 3 and back.seq == 200
    first = tcframe.TcFrame(42, 1, b"x", map_id=63, seq_flags=tcframe.SEG_FIRST)
    assert first.pack()[5] == 0x7F  # 01 111111


def test_unlock_and_set_vr_frames_by_hand():
    unlock = tcframe.unlock_frame(0x2A, 1)
    # 00 1 1 00 0000101010 -> 0x302A ; VCID 000001, length 8-1=7 -> 0x0407 ; N(S) 0 ; Unlock 00
    assert unlock.pack() == _with_crc(unhex("302A 0407 00 00"))
    back = tcframe.TcFrame.unpack(unlock.pack())
    assert back.control and back.bypass and back.kind() == "BC"
    assert back.control_command() == (tcframe.CC_UNLOCK, None)
    setvr = tcframe.set_vr_frame(0x2A, 1, 9)
    assert setvr.pack() == _with_crc(unhex("302A 0409 00 820009"))
    assert tcframe.TcFrame.unpack(setvr.pack()).control_command() == (tcframe.CC_SET_VR, 9)
    # a BC frame has no segment header even where the VC uses them
    assert tcframe.TcFrame.unpack(setvr.pack(), has_segment_header=True).data == unhex("820009")
    assert tcframe.set_vr(255) == unhex("82 00 FF")
    raises(errors.EncodeError, tcframe.set_vr, 256)


def test_control_command_parser_rejects_other_bodies():
    raises(errors.FieldValueError, tcframe.parse_control, b"\x01")
    raises(errors.FieldValueError, tcframe.parse_control, b"\x82\x01\x00")
    raises(errors.FieldValueError, tcframe.parse_control, b"\x82\x00")
    raises(errors.TruncatedError, tcframe.parse_control, b"")
    ad = tcframe.TcFrame(1, 1, b"\x00")
    raises(errors.FieldValueError, ad.control_command)


def test_errors():
    raw = bytearray(tcframe.TcFrame(42, 1, b"abc").pack())
    exc = raises(errors.LengthError, tcframe.TcFrame.unpack, bytes(raw) + b"\x00")
    assert exc.field == "tcframe.frame_length" and exc.expected == 10 and exc.got == 11
    raw[6] ^= 0x40
    exc = raises(errors.CrcError, tcframe.TcFrame.unpack, bytes(raw))
    assert exc.offset == 8
    raises(errors.TruncatedError, tcframe.TcFrame.unpack, b"\x00\x01")
    raises(errors.EncodeError, tcframe.TcFrame(42, 1, bytes(1018)).pack)
    bad = tcframe.TcFrame(42, 1, b"x", has_fecf=False).pack()
    exc = raises(errors.VersionError, tcframe.TcFrame.unpack, bytes([bad[0] | 0x80]) + bad[1:], False, False)
    assert exc.got == 2
    raises(errors.FieldValueError, tcframe.TcFrame.unpack, bytes([bad[0] | 0x04]) + bad[1:], False, False)
    raises(errors.FieldValueError, tcframe.TcFrame.unpack, bytes([bad[0] | 0x10]) + bad[1:], False, False)
    raises(errors.EncodeError, tcframe.TcFrame(42, 64, b"x").pack)
    raises(errors.EncodeError, tcframe.TcFrame(42, 1, b"").pack)
    raises(errors.EncodeError, tcframe.TcFrame(42, 1, b"\x00", bypass=True, control=True, map_id=0).pack)
    raises(errors.EncodeError, tcframe.TcFrame(42, 1, b"\x00", control=True).pack)


def test_size_limits():
    biggest = tcframe.TcFrame(42, 1, bytes(1017))  # 5 + 1017 + 2 = 1024
    raw = biggest.pack()
    assert len(raw) == 1024 and raw[2:4] == unhex("07FF")  # VCID 000001, length field 1023
    assert tcframe.TcFrame.unpack(raw).data == bytes(1017)
    exc = raises(errors.OversizedError, tcframe.TcFrame.unpack, raw + b"\x00")
    assert exc.limit == 1024 and exc.got == 1025


def test_pack_into_a_preallocated_buffer():
    buf = bytearray(32)
    n = tcframe.TcFrame(7, 2, b"hello", seq=3).pack_into(buf, 4)
    assert n == 12 and bytes(buf[4:16]) == tcframe.TcFrame(7, 2, b"hello", seq=3).pack()
    raises(errors.EncodeError, tcframe.TcFrame(7, 2, bytes(30)).pack_into, buf)


def test_unpack_with_cltu_fill():
    raw = tcframe.TcFrame(42, 1, b"abc").pack()
    assert tcframe.unpack_with_fill(raw + b"\x55" * 5).data == b"abc"
    raises(errors.TruncatedError, tcframe.unpack_with_fill, raw[:-1])
    assert tcframe.peek_length(raw) == len(raw)
