"""Space packets and PUS-C byte-identical to spacepackets, both directions; decoder fuzzing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from spacepackets.ccsds.spacepacket import (
    PacketId,
    PacketType,
    SequenceFlags,
    SpacePacketHeader,
    parse_space_packets,
)
from spacepackets.ecss import PusTc as RefTc
from spacepackets.ecss import PusTm as RefTm

from protocols import errors
from protocols import spacepacket as sp
from protocols.pus import PusTc, PusTm

apid = st.integers(0, 0x7FF)
count = st.integers(0, 0x3FFF)
u8 = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
payload = st.binary(max_size=300)


@given(st.integers(0, 1), apid, st.integers(0, 3), count, st.binary(min_size=1, max_size=300), st.booleans())
def test_space_packet_header_equals_spacepackets(ptype, a, flags, c, data, sec):
    ours = sp.SpacePacket(ptype, a, data, c, flags, sec).pack()
    ref = SpacePacketHeader(
        PacketType(ptype), a, c, len(data) - 1, sec_header_flag=sec, seq_flags=SequenceFlags(flags)
    ).pack()
    assert ours[:6] == bytes(ref)
    back = SpacePacketHeader.unpack(ours)
    assert (back.apid, back.seq_count, back.data_len) == (a, c, len(data) - 1)


@given(u8, u8, payload, apid, count, u16, st.integers(0, 15))
def test_pus_tc_equals_spacepackets_both_ways(svc, sub, data, a, c, src, ack):
    ours = PusTc(svc, sub, data, a, c, src, ack).pack()
    ref = RefTc(
        service=svc, message_subtype=sub, app_data=data, apid=a, seq_count=c, source_id=src, ack_flags=ack
    ).pack()
    assert ours == bytes(ref)
    theirs = RefTc.unpack(ours)
    assert (theirs.service, theirs.message_subtype, theirs.app_data) == (svc, sub, data)
    mine = PusTc.unpack(bytes(ref))
    assert (mine.source_id, mine.ack_flags, mine.seq_count, mine.apid) == (src, ack, c, a)


@given(u8, u8, payload, apid, count, u16, u16, st.binary(min_size=0, max_size=10), st.booleans())
def test_pus_tm_equals_spacepackets_both_ways(svc, sub, data, a, c, msg, dest, stamp, crc):
    ours = PusTm(svc, sub, data, a, c, msg, dest, stamp, has_crc=crc).pack()
    ref = RefTm(
        service=svc,
        message_subtype=sub,
        source_data=data,
        apid=a,
        seq_count=c,
        message_counter=msg,
        destination_id=dest,
        timestamp=stamp,
        has_checksum=crc,
    ).pack()
    assert ours == bytes(ref)
    mine = PusTm.unpack(bytes(ref), timestamp_len=len(stamp), has_crc=crc)
    assert (mine.msg_counter, mine.dest_id, mine.timestamp, mine.source_data) == (msg, dest, stamp, data)
    if crc:
        theirs = RefTm.unpack(ours, timestamp_len=len(stamp))
        assert theirs.source_data == data and theirs.pus_tm_sec_header.message_counter == msg


@given(st.lists(st.tuples(apid, st.binary(min_size=1, max_size=200)), max_size=20), st.data())
def test_stream_parser_equals_spacepackets_for_any_chunking(items, draw):
    pkts = [sp.SpacePacket(sp.TM, a, d, i).pack() for i, (a, d) in enumerate(items)]
    stream = b"".join(pkts)
    ids = {PacketId(PacketType.TM, False, a) for a, _ in items}
    ref = parse_space_packets(bytearray(stream), list(ids))
    parser = sp.PacketStream(max_packet_len=1000)
    got = []
    pos = 0
    while pos < len(stream):
        n = draw.draw(st.integers(1, 64))
        got.extend(parser.feed(stream[pos : pos + n]))
        pos += n
    assert got == pkts
    assert [bytes(p) for p in ref.tm_list] == pkts


@given(st.binary(max_size=400))
def test_decoders_on_garbage_raise_protocol_errors_only(blob):
    for fn in (sp.SpacePacket.unpack, PusTc.unpack, lambda b: PusTm.unpack(b, 6)):
        try:
            fn(blob)
        except errors.ProtocolError:
            pass
    parser = sp.PacketStream(max_packet_len=256)
    parser.feed(blob)
    assert parser.pending <= len(blob)


@given(st.binary(min_size=1, max_size=100), st.integers(0, 200), u8)
def test_mutated_pus_tc_is_rejected_or_identical(data, where, xor):
    raw = bytearray(PusTc(17, 1, data, 5, 7).pack())
    raw[where % len(raw)] ^= xor or 1
    try:
        PusTc.unpack(bytes(raw))
    except errors.ProtocolError:
        return
    raise AssertionError("a corrupted TC passed the CRC")  # CRC-16 detects every single-byte error
