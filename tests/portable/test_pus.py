"""PUS-C TC/TM packets and CUC time."""

from _check import raises, unhex

from protocols import errors
from protocols.cuc import CucTime
from protocols.pus import PusTc, PusTm


def test_ping_tc_matches_spacepackets_documented_example():
    # spacepackets' PusTc docstring: PusTc(service=17, message_subtype=1, seq_count=22, apid=0x01)
    # packs to 18,01,c0,16,00,06,2f,11,01,00,00,ab,62
    assert PusTc(17, 1, apid=1, seq_count=22).pack() == unhex("1801c016 0006 2f110100 00ab62")


def test_tc_round_trip_and_fields():
    tc = PusTc(8, 1, b"\x01\x02\x03", apid=0x42, seq_count=9, source_id=0xBEEF, ack_flags=0b1001)
    raw = tc.pack()
    assert raw[6] == 0x29  # PUS version 2, ack flags 1001
    back = PusTc.unpack(raw)
    assert (back.service, back.subtype, back.app_data, back.apid) == (8, 1, b"\x01\x02\x03", 0x42)
    assert (back.seq_count, back.source_id, back.ack_flags) == (9, 0xBEEF, 0b1001)


def test_tc_bad_crc_reports_offset():
    raw = bytearray(PusTc(17, 1, apid=1).pack())
    raw[8] ^= 1
    exc = raises(errors.CrcError, PusTc.unpack, bytes(raw))
    assert exc.offset == len(raw) - 2 and exc.field == "pus.tc.crc"


def test_tc_wrong_pus_version_and_type():
    raw = bytearray(PusTc(17, 1, apid=1, has_crc=False).pack())
    raw[6] = 0x1F
    raises(errors.VersionError, PusTc.unpack, bytes(raw), False)
    tm = PusTm(17, 2, apid=1, timestamp=bytes(6)).pack()
    exc = raises(errors.VersionError, PusTc.unpack, tm)
    assert exc.field == "pus.tc.packet_type"


def test_tm_layout_by_hand():
    tm = PusTm(
        3,
        25,
        b"\x10\x20",
        apid=0x7,
        seq_count=1,
        msg_counter=0x0102,
        dest_id=0x0304,
        timestamp=CucTime(0x01020304, 0x8000).pack(),
        has_crc=False,
    )
    assert tm.pack() == unhex("0807 C001 000E 20 03 19 0102 0304 01020304 8000 1020")


def test_tm_round_trip_with_crc():
    stamp = CucTime.from_seconds(1000.25).pack()
    tm = PusTm(5, 1, b"event", apid=3, msg_counter=7, timestamp=stamp)
    back = PusTm.unpack(tm.pack(), timestamp_len=6)
    assert back == tm
    assert CucTime.unpack(back.timestamp).seconds() == 1000.25


def test_tm_truncated_header():
    raw = PusTm(1, 1, b"", apid=1, timestamp=bytes(6), has_crc=False).pack()
    exc = raises(errors.TruncatedError, PusTm.unpack, raw, 8, False)
    assert exc.field == "pus.tm.header"


def test_cuc_with_p_field():
    t = CucTime(5, 1, coarse_octets=2, fine_octets=1, with_p_field=True)
    # P-field: level 1 (001), coarse 2 -> 01, fine 1 -> 01: 0 001 01 01 = 0x15
    assert t.pack() == unhex("15 0005 01")
    back = CucTime.unpack(t.pack(), with_p_field=True)
    assert back == t and back.seconds() == 5 + 1 / 256
    raises(errors.TruncatedError, CucTime.unpack, unhex("15 0005"), 0, 4, 2, True)
    raises(errors.FieldValueError, CucTime.unpack, unhex("95 0005 01"), 0, 4, 2, True)
    raises(errors.EncodeError, CucTime, 1 << 32)
