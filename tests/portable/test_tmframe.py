"""TM transfer frames, CLCW, packet multiplexing and extraction (CCSDS 132.0-B, 232.0-B)."""

from _check import raises, unhex

from protocols import errors, tmframe
from protocols import spacepacket as sp


def test_header_bits_by_hand():
    raw = tmframe.pack(16, 0x2AB, 5, 0x12, 0x34, 0x123, bytes(10), has_fecf=False, ocf=None)
    # 00 | 1010101011 | 101 | 0 -> 0010 1010 1011 1010 = 0x2ABA ; status 0001 1 + FHP 0x123 -> 0x1923
    assert raw[:6] == unhex("2ABA 12 34 1923")


def test_clcw_bits_by_hand():
    clcw = tmframe.Clcw(vcid=3, report_value=0x42, lockout=True, retransmit=True, farm_b_counter=2)
    # 0 00 000 01 | 000011 00 | 0 0 1 0 1 10 0 | 0x42
    assert clcw.pack() == unhex("01 0C 2C 42")
    assert tmframe.Clcw.unpack(clcw.pack()) == clcw
    raises(errors.FieldValueError, tmframe.Clcw.unpack, unhex("81000000"))


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


def _packets(n):
    return [
        sp.SpacePacket(sp.TM, 10 + i % 3, bytes([i]) * (5 + i * 7 % 60), seq_count=i).pack() for i in range(n)
    ]


def test_framer_and_extractor_round_trip_with_spanning_packets():
    framer = tmframe.TmFramer(64, scid=42, vcid=1)
    frames = []
    pkts = _packets(20)
    for p in pkts:
        frames.extend(framer.add_packet(p))
    frames.extend(framer.flush())
    ext = tmframe.PacketExtractor()
    got = []
    spans = 0
    for raw in frames:
        f = tmframe.unpack(raw)
        assert f.scid == 42 and f.vcid == 1 and f.clcw() is not None
        spans += f.fhp == tmframe.FHP_NO_PACKET_START
        got.extend(ext.feed(f))
    assert got == pkts
    assert ext.lost_frames == 0 and ext.idle_packets == 1
    assert spans >= 1  # 60+ byte packets in 48-byte data fields must span frames


def test_lost_frame_is_detected_and_extraction_resyncs():
    framer = tmframe.TmFramer(48, scid=1)
    frames = []
    pkts = _packets(30)
    for p in pkts:
        frames.extend(framer.add_packet(p))
    frames.extend(framer.flush())
    ext = tmframe.PacketExtractor()
    got = []
    for i, raw in enumerate(frames):
        if i == 5:
            continue
        got.extend(ext.feed(tmframe.unpack(raw)))
    assert ext.lost_frames == 1
    assert len(got) < len(pkts)
    # every packet delivered is intact and in order; only those touching the lost frame are gone
    idx = [pkts.index(p) for p in got]
    assert idx == sorted(idx)
    assert got[-1] == pkts[-1]


def test_idle_frame_when_nothing_pending():
    framer = tmframe.TmFramer(32, scid=7)
    (raw,) = framer.flush()
    f = tmframe.unpack(raw)
    assert f.fhp == tmframe.FHP_IDLE
    assert tmframe.PacketExtractor().feed(f) == []
