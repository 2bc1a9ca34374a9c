"""TM transfer frames, CLCW, packet multiplexing and extraction (CCSDS 132.0-B, 232.0-B).

Header and CLCW vectors are derived by hand from the bit layouts in the standards.
"""

from _check import raises, unhex

from protocols import errors, tm_extractor, tmframe
from protocols import spacepacket as sp
from protocols.crc import crc16


def _pkt(apid, n, seq=0, fill=None):
    """A TM space packet with an n-byte data field."""
    data = bytes([seq & 0xFF if fill is None else fill]) * n
    return sp.SpacePacket(sp.TM, apid, data, seq).pack()


def test_header_bits_by_hand():
    raw = tmframe.pack(16, 0x2AB, 5, 0x12, 0x34, 0x123, bytes(10), has_fecf=False, ocf=None)
    # 00 | 1010101011 | 101 | 0 -> 0010 1010 1011 1010 = 0x2ABA ; status 0 0 0 11 + FHP 0x123 -> 0x1923
    assert raw[:6] == unhex("2ABA 12 34 1923")
    assert raw[6:] == bytes(10)


def test_ocf_flag_fhp_specials_and_fecf_placement():
    raw = tmframe.pack(
        16, 0x3FF, 7, 255, 0, tmframe.FHP_NO_PACKET_START, b"\xaa\xbb\xcc\xdd", unhex("01020304")
    )
    # 00 1111111111 111 1 -> 0x3FFF ; status 0001 1111 1111 1111 = 0x1FFF
    assert raw[:6] == unhex("3FFF FF 00 1FFF")
    assert raw[6:14] == unhex("AABBCCDD 01020304")
    c = crc16(raw[:14])
    assert raw[14:] == bytes((c >> 8, c & 0xFF))
    idle = tmframe.pack(12, 0, 0, 0, 0, tmframe.FHP_IDLE, b"\x55\x55\x55\x55", has_fecf=True)
    assert idle[4:6] == unhex("1FFE")


def test_secondary_header_and_data_field_status_flags():
    buf = bytearray(24)
    tmframe.pack_into(buf, 1, 2, 3, 4, 5, bytes(12), None, True, b"\x11\x22\x33", sync_flag=0, packet_order=1)
    # sec hdr flag 1, sync 0, order 1, seg len 11, FHP 5 -> 1011 1000 0000 0101 = 0xB805
    assert buf[4:6] == unhex("B805")
    # secondary header ID: version 00, length = 4 octets - 1 = 3
    assert buf[6:10] == unhex("03 112233")
    f = tmframe.unpack(bytes(buf))
    assert f.sec_hdr == 1 and f.sec_header == b"\x11\x22\x33" and f.packet_order == 1
    assert len(f.data) == 12 and f.fhp == 5
    assert f.pack() == bytes(buf)
    bad = bytearray(buf)
    bad[6] |= 0x40  # secondary header version 01
    c = crc16(bad[:22])
    bad[22:] = bytes((c >> 8, c & 0xFF))
    raises(errors.VersionError, tmframe.unpack, bytes(bad))


def test_sync_flag_frames_may_use_other_segment_length_ids():
    raw = bytearray(tmframe.pack(16, 1, 0, 0, 0, 0x7FF, bytes(8)))
    raw[4] = 0x40 | 0x07  # sync flag 1, seg len id 00
    c = crc16(raw[:14])
    raw[14:] = bytes((c >> 8, c & 0xFF))
    f = tmframe.unpack(bytes(raw))
    assert f.sync_flag == 1 and f.seg_len_id == 0
    raw[4] = 0x07  # sync flag 0 requires "11"
    c = crc16(raw[:14])
    raw[14:] = bytes((c >> 8, c & 0xFF))
    exc = raises(errors.FieldValueError, tmframe.unpack, bytes(raw))
    assert exc.field == "tmframe.segment_length_id"


def test_clcw_bits_by_hand():
    clcw = tmframe.RxClcw(vcid=3, report_value=0x42, lockout=True, retransmit=True, farm_b_counter=2)
    # 0 00 000 01 | 000011 00 | 0 0 1 0 1 10 0 | 0x42
    assert clcw.pack() == unhex("01 0C 2C 42")
    assert tmframe.clcw_unpack(clcw.pack()) == clcw
    every = tmframe.RxClcw(63, 0xFF, False, True, False, 3, True, True, 5, 1)
    # 0 00 101 01 | 111111 00 | 1 1 0 1 0 11 0 | FF
    assert every.pack() == unhex("15 FC D6 FF")
    back = tmframe.clcw_unpack(every.pack())
    assert (back.vcid, back.report_value, back.status, back.cop_in_effect) == (63, 255, 5, 1)
    assert back.no_rf and back.no_bitlock and back.wait and not back.lockout and not back.retransmit
    assert back.farm_b_counter == 3
    raises(errors.FieldValueError, tmframe.clcw_unpack, unhex("81000000"))
    raises(errors.VersionError, tmframe.clcw_unpack, unhex("21000000"))
    raises(errors.TruncatedError, tmframe.clcw_unpack, unhex("010000"))
    raises(errors.EncodeError, tmframe.RxClcw(vcid=64).pack)
    raises(errors.EncodeError, tmframe.RxClcw(report_value=256).pack)


def test_unpack_checks_fecf_and_version():
    raw = bytearray(tmframe.pack(32, 1, 0, 0, 0, 0, bytes(20), ocf=bytes(4)))
    frame = tmframe.unpack(bytes(raw))
    assert frame.ocf == bytes(4) and len(frame.data) == 20
    raw[10] ^= 1
    exc = raises(errors.CrcError, tmframe.unpack, bytes(raw))
    assert exc.offset == 30 and exc.field == "tmframe.fecf"
    raw[10] ^= 1
    raw[0] |= 0x40
    raises(errors.CrcError, tmframe.unpack, bytes(raw))
    raises(errors.VersionError, tmframe.unpack, bytes(raw), False)
    raises(errors.TruncatedError, tmframe.unpack, bytes(3))
    raises(errors.LengthError, tmframe.unpack, bytes(raw), True, 40)
    raises(errors.LengthError, tmframe.unpack, bytes(2049), False)


def test_build_into_writes_around_a_data_field_in_place():
    buf = bytearray(40)
    n = tmframe.data_field_len(40, True, True)
    assert n == 28
    buf[6 : 6 + n] = bytes(range(n))
    tmframe.build_into(buf, 42, 1, 9, 8, 0, tmframe.Clcw(report_value=7), True)
    assert bytes(buf) == tmframe.pack(
        40, 42, 1, 9, 8, 0, bytes(range(n)), tmframe.RxClcw(report_value=7).pack()
    )
    f = tmframe.unpack(buf)
    assert f.clcw().report_value == 7 and f.data == bytes(range(n))
    raises(errors.EncodeError, tmframe.pack, 40, 42, 1, 0, 0, 0, bytes(27), bytes(4))
    raises(errors.EncodeError, tmframe.pack, 40, 1024, 1, 0, 0, 0, bytes(28), bytes(4))
    raises(errors.EncodeError, tmframe.data_field_len, 8)


def test_framer_sets_first_header_pointer_and_idle_fill_by_hand():
    # 32-byte frames without OCF/FECF: 26-byte data fields
    framer = tmframe.TmFramerBytes(32, scid=3, has_ocf=False, has_fecf=False)
    p1, p2, p3 = _pkt(10, 4, 1), _pkt(11, 24, 2), _pkt(12, 2, 3)  # 10, 30 and 8 bytes
    frames = framer.add_packet(p1) + framer.add_packet(p2) + framer.add_packet(p3)
    assert len(frames) == 1
    f1 = tmframe.unpack(frames[0], False)
    assert f1.fhp == 0 and f1.data == p1 + p2[:16]
    frames = framer.flush()
    # 4 bytes left after p3 is too small for an idle packet (7): it runs on through the next frame
    assert len(frames) == 2
    f2, f3 = tmframe.unpack(frames[0], False), tmframe.unpack(frames[1], False)
    assert f2.fhp == 14 and f2.data[:22] == p2[16:] + p3
    # idle packet: APID 0x7FF, unsegmented, count 0, 24 data bytes -> length field 23
    assert f2.data[22:] == unhex("07FF C000")
    assert f3.fhp == tmframe.FHP_NO_PACKET_START and f3.data[:2] == unhex("0017")
    assert (f1.vc_count, f2.vc_count, f3.vc_count) == (0, 1, 2)
    assert (f1.mc_count, f2.mc_count, f3.mc_count) == (0, 1, 2)
    ext = tm_extractor.PacketExtractor()
    got = []
    for f in (f1, f2, f3):
        got += ext.feed(f)
    assert got == [p1, p2, p3] and ext.idle_packets == 1


def test_packet_ending_on_a_frame_boundary():
    framer = tmframe.TmFramerBytes(32, scid=3, has_ocf=False, has_fecf=False)
    p1, p2 = _pkt(1, 20), _pkt(2, 10)  # 26 bytes: exactly one data field
    frames = framer.add_packet(p1) + framer.add_packet(p2) + framer.flush()
    f = [tmframe.unpack(r, False) for r in frames]
    assert f[0].fhp == 0 and f[1].fhp == 0
    ext = tm_extractor.PacketExtractor()
    assert ext.feed(f[0]) == [p1] and ext.feed(f[1]) == [p2]


def test_build_into_uses_caller_buffer_and_counters_wrap():
    framer = tmframe.TmFramerBytes(40, scid=5, vcid=2)
    framer.vc_count = 255
    framer.master.mc_count = 254
    buf = bytearray(40)
    assert not framer.build_into(buf)  # nothing queued, no flush: no frame
    framer.push(_pkt(1, 50))
    assert framer.ready() == 2 and framer.pending == 56
    assert framer.build_into(buf)
    f = tmframe.unpack(buf)
    assert (f.vc_count, f.mc_count, f.fhp, f.vcid) == (255, 254, 0, 2)
    assert framer.build_into(buf)
    f = tmframe.unpack(buf)
    assert (f.vc_count, f.mc_count, f.fhp) == (0, 255, tmframe.FHP_NO_PACKET_START)
    assert not framer.build_into(buf)
    assert framer.build_into(buf, flush=True)
    assert tmframe.unpack(buf).mc_count == 0 and framer.pending == 0
    raises(errors.EncodeError, framer.build_into, bytearray(39))


def test_oid_frame_and_clcw_update():
    framer = tmframe.TmFramerBytes(32, scid=7, idle_byte=0x55)
    framer.clcw.report_value = 200
    framer.clcw.retransmit = True
    (raw,) = framer.flush()
    f = tmframe.unpack(raw)
    assert f.fhp == tmframe.FHP_IDLE and f.data == b"\x55" * 20
    assert f.clcw().report_value == 200 and f.clcw().retransmit
    assert tm_extractor.PacketExtractor().feed(f) == []
    framer.push(_pkt(1, 1))
    raises(errors.EncodeError, framer.idle_frame_into, bytearray(32))


def test_shared_master_channel_counts_every_vc():
    mc = tmframe.MasterChannel()
    a = tmframe.TmFramerBytes(24, 9, vcid=0, master=mc)
    b = tmframe.TmFramerBytes(24, 9, vcid=1, master=mc)
    frames = a.flush() + b.flush() + a.flush()
    got = [(tmframe.unpack(r).vcid, tmframe.unpack(r).mc_count, tmframe.unpack(r).vc_count) for r in frames]
    assert got == [(0, 0, 0), (1, 1, 0), (0, 2, 1)]
    ext = tm_extractor.PacketExtractor(vcid=0)
    for r in frames:
        ext.feed(tmframe.unpack(r))
    assert ext.other_vc == 1 and ext.frames == 2 and ext.lost_frames == 0 and ext.mc_lost == 0


def test_framer_rejects_bad_packets_and_overflow():
    framer = tmframe.TmFramerBytes(24, 9, capacity=40)
    raises(errors.EncodeError, framer.add_packet, b"\x20\x01\xc0\x00\x00\x00\x00")  # version 001
    raises(errors.EncodeError, framer.add_packet, b"\x00\x01\xc0\x00\x00\x05\x00")  # length field says 12
    raises(errors.EncodeError, framer.add_packet, b"\x00\x01\xc0")
    raises(errors.EncodeError, framer.push, _pkt(1, 60))  # larger than the free ring
    # add_packet streams a packet of any length through the ring: 66 bytes = 5 data fields + 6
    assert len(framer.add_packet(_pkt(1, 60))) == 5 and framer.pending == 6


def _packets(n):
    return [_pkt(10 + i % 3, 5 + i * 7 % 60, i) for i in range(n)]


def _frames(framer, pkts):
    out = []
    for p in pkts:
        out.extend(framer.add_packet(p))
    return out + framer.flush()


def test_framer_and_extractor_round_trip_with_spanning_packets():
    pkts = _packets(20)
    frames = _frames(tmframe.TmFramerBytes(64, scid=42, vcid=1), pkts)
    ext = tm_extractor.PacketExtractor()
    got = []
    spans = 0
    for raw in frames:
        f = tmframe.unpack(raw)
        assert f.scid == 42 and f.vcid == 1 and f.clcw() is not None
        spans += f.fhp == tmframe.FHP_NO_PACKET_START
        got.extend(ext.feed(f))
    assert got == pkts
    assert ext.lost_frames == 0 and ext.idle_packets == 1 and ext.fhp_mismatches == 0
    assert spans >= 1  # 60+ byte packets in 48-byte data fields must span frames


def test_header_split_across_frames():
    # 12-byte data fields: a 10-byte packet leaves 2 bytes, so the next header is split 2 + 4
    framer = tmframe.TmFramerBytes(20, scid=1, has_ocf=False)
    pkts = [_pkt(1, 4, 1), _pkt(2, 20, 2), _pkt(3, 1, 3)]
    frames = _frames(framer, pkts)
    parsed = [tmframe.unpack(r) for r in frames]
    assert parsed[0].fhp == 0 and parsed[1].fhp == tmframe.FHP_NO_PACKET_START
    ext = tm_extractor.PacketExtractor()
    got = []
    for f in parsed:
        got += ext.feed(f)
    assert got == pkts and ext.fhp_mismatches == 0


def test_lost_frame_is_detected_and_extraction_resyncs():
    pkts = _packets(30)
    frames = _frames(tmframe.TmFramerBytes(48, scid=1), pkts)
    ext = tm_extractor.PacketExtractor()
    got = []
    for i, raw in enumerate(frames):
        if i in (5, 11, 12):
            continue
        got.extend(ext.feed(tmframe.unpack(raw)))
    assert ext.lost_frames == 3 and ext.mc_lost == 3
    assert ext.dropped_partials >= 1
    assert len(got) < len(pkts)
    # every packet delivered is intact and in order; only those touching the lost frames are gone
    idx = [pkts.index(p) for p in got]
    assert idx == sorted(idx)
    assert got[-1] == pkts[-1]


def test_wrong_first_header_pointer_drops_the_partial_packet():
    framer = tmframe.TmFramerBytes(32, scid=1, has_ocf=False, has_fecf=False)
    pkts = [_pkt(1, 30, 1), _pkt(2, 5, 2), _pkt(3, 5, 3)]
    frames = [tmframe.unpack(r, False) for r in _frames(framer, pkts)]
    # frame 1 starts with the last 10 bytes of packet 1, then packet 2 at 10: claim 12 instead
    assert frames[1].fhp == 10
    frames[1].fhp = 12
    ext = tm_extractor.PacketExtractor()
    got = []
    for f in frames:
        got += ext.feed(f)
    assert ext.fhp_mismatches == 1 and ext.dropped_partials == 1
    assert pkts[0] not in got


def test_oversized_packet_forces_resync():
    framer = tmframe.TmFramerBytes(40, scid=1)
    pkts = [_pkt(1, 100, 1), _pkt(2, 10, 2), _pkt(3, 10, 3)]
    frames = _frames(framer, pkts)
    ext = tm_extractor.PacketExtractor(max_packet_len=64)
    got = []
    for r in frames:
        got += ext.feed(tmframe.unpack(r))
    assert ext.oversized == 1 and got == pkts[1:]
