"""Space packet headers and the stream parser, vectors derived by hand from CCSDS 133.0-B-2."""

from _check import raises, unhex

from protocols import errors
from protocols import spacepacket as sp


def test_tc_header_bits_by_hand():
    # version 000, type 1, sec hdr 1, APID 0x001 -> 0001 1000 0000 0001 = 0x1801
    # flags 11, count 22 -> 0xC016; 6 data bytes -> length field 5
    pkt = sp.SpacePacket(sp.TC, 1, bytes(6), seq_count=22, sec_hdr=True)
    assert pkt.pack()[:6] == unhex("1801 C016 0005")


def test_tm_header_all_fields_at_limits():
    pkt = sp.SpacePacket(sp.TM, 0x7FE, b"\xaa", seq_count=0x3FFF, seq_flags=sp.SEQ_FIRST)
    # type 0, no sec hdr, APID 0x7FE -> 0x07FE; flags 01, count 0x3FFF -> 0x7FFF; length 0
    assert pkt.pack() == unhex("07FE 7FFF 0000 AA")
    assert sp.SpacePacket.unpack(pkt.pack()) == pkt


def test_unpack_header_names_its_fields():
    hdr = sp.unpack_header(unhex("00 1801 C016 0005"), 1)
    assert (hdr.ptype, hdr.sec_hdr, hdr.apid) == (sp.TC, 1, 1)
    assert (hdr.seq_flags, hdr.seq_count, hdr.data_len) == (sp.SEQ_UNSEGMENTED, 22, 6)
    assert hdr == (1, 1, 1, 3, 22, 6)  # still a tuple


def test_idle_packet_uses_apid_7ff():
    pkt = sp.idle_packet(3)
    raw = pkt.pack()
    assert raw == unhex("07FF C000 0002 000000")


def test_unpack_errors_name_field_and_offset():
    exc = raises(errors.TruncatedError, sp.SpacePacket.unpack, unhex("1801C0"))
    assert exc.field == "spacepacket.header" and exc.offset == 0
    exc = raises(errors.VersionError, sp.SpacePacket.unpack, unhex("3801 C016 0000 00"))
    assert exc.got == 1 and exc.field == "spacepacket.version"
    exc = raises(errors.TruncatedError, sp.SpacePacket.unpack, unhex("1801 C016 0005 0000"))
    assert exc.field == "spacepacket.data" and exc.offset == 6
    raises(errors.OversizedError, sp.SpacePacket.unpack, unhex("1801 C016 0000 00 FF"))


def test_encode_range_errors():
    raises(errors.EncodeError, sp.SpacePacket(0, 0x800, b"x").pack)
    raises(errors.EncodeError, sp.SpacePacket(0, 1, b"x", seq_count=0x4000).pack)
    raises(errors.EncodeError, sp.SpacePacket(0, 1, b"").pack)


def test_scan_packets_skips_bad_version_bytes():
    a = sp.SpacePacket(sp.TM, 5, b"abc").pack()
    b = sp.SpacePacket(sp.TM, 6, b"defgh").pack()
    stream = a + b"\xff\xe0" + b + a[:4]
    packets, nxt, skipped = sp.scan_packets(stream)
    assert packets == [(0, 9), (11, 11)]
    assert skipped == 2
    assert nxt == 22


def test_stream_reassembles_across_any_chunking():
    pkts = [sp.SpacePacket(sp.TM, i, bytes([i]) * (i + 1), seq_count=i).pack() for i in range(12)]
    stream = b"".join(pkts)
    for size in (1, 2, 5, 7, 64, len(stream)):
        parser = sp.PacketStream()
        got = []
        for i in range(0, len(stream), size):
            got.extend(parser.feed(stream[i : i + size]))
        assert got == pkts
        assert parser.pending == 0 and parser.skipped == 0


def test_stream_rejects_oversized_length():
    parser = sp.PacketStream(max_packet_len=64)
    big = unhex("0801 C000 FFFF")  # declares 65536 data bytes
    good = sp.SpacePacket(sp.TM, 1, b"ok").pack()
    out = parser.feed(big + good)
    assert out == [good]
    # the 6 header bytes are skipped one at a time; shifted views of them may also read as
    # oversized headers, so at least one (not exactly one) oversize is counted
    assert parser.skipped == 6 and parser.oversized >= 1


def test_feed_batch_gives_zero_copy_views():
    pkts = [sp.SpacePacket(sp.TM, 0x10 + i, bytes([i]) * 9, seq_count=i).pack() for i in range(5)]
    parser = sp.PacketStream()
    stream = b"".join(pkts)
    batch = parser.feed_batch(stream[:40])
    assert len(batch) == 2 and batch[1] == pkts[1] and batch.apid(0) == 0x10
    rest = parser.feed_batch(stream[40:])
    assert list(rest) == pkts[2:]
    assert bytes(rest.packet_view(0)) == pkts[2]
    assert parser.packets == 5 and parser.pending == 0
