"""TM frames byte-identical to spacepackets' ccsds.tm_frame (both directions), FECF vs crcmod,
framer/extractor properties under random packets, frame loss and corruption, decoder fuzzing."""

from __future__ import annotations

import random

import crcmod.predefined
from hangguard import no_hang
from hypothesis import given
from hypothesis import strategies as st
from spacepackets.ccsds.tm_frame import (
    MasterChannelId,
    TmFramePrimaryHeader,
    TmTransferFrame,
    TransferFrameDataFieldStatus,
    TransferFrameSecondaryHeader,
)

from protocols import errors, tm_extractor, tmframe
from protocols import spacepacket as sp

CRC = crcmod.predefined.mkCrcFun("crc-ccitt-false")


@given(
    st.integers(0, 0x3FF),
    st.integers(0, 7),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 0x7FF),
    st.binary(min_size=1, max_size=200),
    st.one_of(st.none(), st.binary(min_size=4, max_size=4)),
    st.booleans(),
    st.one_of(st.none(), st.binary(min_size=1, max_size=63)),
    st.booleans(),
)
def test_our_frames_parse_in_spacepackets(scid, vcid, mc, vc, fhp, data, ocf, fecf, sec, order):
    n = 6 + len(data) + (4 if ocf else 0) + (2 if fecf else 0) + (1 + len(sec) if sec else 0)
    buf = bytearray(n)
    tmframe.pack_into(buf, scid, vcid, mc, vc, fhp, data, ocf, fecf, sec, 0, order)
    raw = bytes(buf)
    ref = TmTransferFrame.unpack(raw, n, has_error_control_field=fecf)  # also checks our FECF
    hdr = ref.primary_header
    assert hdr.master_channel_id.transfer_frame_version == 0
    assert (hdr.master_channel_id.spacecraft_id, hdr.vc_id, hdr.master_ch_frame_count) == (scid, vcid, mc)
    assert hdr.vc_frame_count == vc and hdr.ocf_flag == (ocf is not None)
    status = hdr.frame_datafield_status
    assert status.first_header_pointer == fhp and status.segment_len_id == 0b11
    assert status.packet_order_flag == order and not status.sync_flag
    assert status.secondary_header_flag == (sec is not None)
    if sec is not None:
        assert ref.secondary_header.version_number == 0
        assert bytes(ref.secondary_header.data_field) == sec
    assert bytes(ref.data_field) == data
    assert (None if ref.op_ctrl_field is None else bytes(ref.op_ctrl_field)) == ocf
    if fecf:
        assert CRC(raw[:-2]) == int.from_bytes(raw[-2:], "big")
    assert ref.pack() == raw


@given(
    st.integers(0, 0x3FF),
    st.integers(0, 7),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 0x7FF),
    st.binary(min_size=1, max_size=200),
    st.booleans(),
    st.one_of(st.none(), st.binary(min_size=1, max_size=63)),
)
def test_spacepackets_frames_parse_in_ours(scid, vcid, mc, vc, fhp, data, with_ocf, sec):
    ocf = tmframe.RxClcw(vcid=vcid, report_value=mc).pack() if with_ocf else None
    status = TransferFrameDataFieldStatus(sec is not None, False, False, 0b11, fhp)
    hdr = TmFramePrimaryHeader(MasterChannelId(0, scid), vcid, with_ocf, mc, vc, status)
    sec_hdr = None if sec is None else TransferFrameSecondaryHeader(0, len(sec), sec)
    body = hdr.pack() + (sec_hdr.pack() if sec_hdr else b"") + data + (ocf or b"")
    n = len(body) + 2
    raw = TmTransferFrame(n, hdr, sec_hdr, data, ocf, CRC(body).to_bytes(2, "big")).pack()
    ours = tmframe.unpack(raw, frame_len=n)
    assert (ours.scid, ours.vcid, ours.mc_count, ours.vc_count, ours.fhp) == (scid, vcid, mc, vc, fhp)
    assert ours.data == data and ours.ocf == ocf and ours.sec_header == sec
    if with_ocf:
        assert ours.clcw() == tmframe.RxClcw(vcid=vcid, report_value=mc)
    assert ours.pack() == raw


@given(
    st.integers(0, 63),
    st.integers(0, 255),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(0, 3),
    st.booleans(),
    st.booleans(),
    st.integers(0, 7),
    st.integers(0, 3),
)
def test_clcw_round_trip_and_bit_positions(vcid, nr, lockout, wait, retx, b, no_rf, no_lock, status, cop):
    clcw = tmframe.RxClcw(vcid, nr, lockout, wait, retx, b, no_rf, no_lock, status, cop)
    word = int.from_bytes(clcw.pack(), "big")
    # CCSDS 232.0-B 4.2.1: bit 0 is the most significant bit of the 32-bit word
    bits = f"{word:032b}"
    assert bits[0] == "0" and bits[1:3] == "00" and int(bits[3:6], 2) == status and int(bits[6:8], 2) == cop
    assert int(bits[8:14], 2) == vcid and bits[14:16] == "00"
    assert bits[16:21] == "".join("1" if x else "0" for x in (no_rf, no_lock, lockout, wait, retx))
    assert int(bits[21:23], 2) == b and bits[23] == "0" and int(bits[24:], 2) == nr
    assert tmframe.clcw_unpack(clcw.pack()) == clcw


def _packets(sizes, rnd):
    return [
        sp.SpacePacket(sp.TM, rnd.randrange(0x7FF), rnd.randbytes(n), i & 0x3FFF).pack()
        for i, n in enumerate(sizes)
    ]


@given(
    st.lists(st.integers(1, 400), min_size=1, max_size=25),
    st.integers(16, 300),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**32),
)
def test_framer_extractor_round_trip_any_geometry(sizes, frame_len, has_ocf, has_fecf, seed):
    pkts = _packets(sizes, random.Random(seed))
    framer = tmframe.TmFramerBytes(frame_len, scid=5, has_ocf=has_ocf, has_fecf=has_fecf)
    frames = []
    for p in pkts:
        frames.extend(framer.add_packet(p))
    frames.extend(framer.flush())
    assert all(len(f) == frame_len for f in frames)
    ext = tm_extractor.PacketExtractor(max_packet_len=500)
    got = []
    for raw in frames:
        got.extend(ext.feed(tmframe.unpack(raw, has_fecf, frame_len)))
    assert got == pkts
    assert ext.fhp_mismatches == 0 and ext.lost_frames == 0 and ext.dropped_partials == 0


@given(st.lists(st.integers(1, 300), min_size=1, max_size=20), st.integers(20, 200), st.integers(0, 2**32))
def test_build_into_gives_the_same_frames_as_add_packet(sizes, frame_len, seed):
    rnd = random.Random(seed)
    pkts = _packets(sizes, rnd)
    a = tmframe.TmFramerBytes(frame_len, scid=9, vcid=3)
    listed = []
    for p in pkts:
        listed.extend(a.add_packet(p))
    listed.extend(a.flush())
    b = tmframe.TmFramerBytes(frame_len, scid=9, vcid=3, capacity=4096)
    buf = bytearray(frame_len)
    built = []
    for p in pkts:
        if len(p) > b.free:
            while b.build_into(buf):
                built.append(bytes(buf))
        b.push(p)
        while rnd.random() < 0.3 and b.build_into(buf):  # frames taken out at random moments
            built.append(bytes(buf))
    while b.build_into(buf):
        built.append(bytes(buf))
    # flush(): the idle-packet fill of a partial frame, or one OID frame when nothing is left
    while b.build_into(buf, flush=True):
        built.append(bytes(buf))
        if not b.pending:
            break
    assert built == listed


@given(
    st.lists(st.integers(1, 300), min_size=5, max_size=30),
    st.integers(30, 150),
    st.integers(0, 2**32),
    st.floats(0.05, 0.4),
)
def test_frame_loss_is_counted_and_delivered_packets_are_intact(sizes, frame_len, seed, loss):
    rnd = random.Random(seed)
    pkts = _packets(sizes, rnd)
    framer = tmframe.TmFramerBytes(frame_len, scid=1)
    frames = []
    for p in pkts:
        frames.extend(framer.add_packet(p))
    frames.extend(framer.flush())
    kept = [i for i in range(len(frames)) if i == 0 or rnd.random() > loss]
    ext = tm_extractor.PacketExtractor()
    got = []
    for i in kept:
        got.extend(ext.feed(tmframe.unpack(frames[i])))
    assert ext.lost_frames == kept[-1] + 1 - len(kept) == ext.mc_lost
    idx = [pkts.index(p) for p in got]  # every packet delivered was sent, in order, once
    assert idx == sorted(set(idx))
    if len(kept) == len(frames):
        assert got == pkts


@given(st.binary(max_size=300))
def test_unpack_on_garbage_raises_only_protocol_errors(blob):
    with no_hang():
        for fecf in (True, False):
            try:
                f = tmframe.unpack(blob, fecf)
            except errors.ProtocolError:
                continue
            assert len(f.data) >= 1
            tm_extractor.PacketExtractor().feed(f)
        try:
            tmframe.clcw_unpack(blob)
        except errors.ProtocolError:
            pass


@given(st.integers(0, 2**32), st.integers(1, 20))
def test_mutated_frames_decode_or_raise_protocol_errors(seed, flips):
    rnd = random.Random(seed)
    pkts = _packets([rnd.randrange(1, 200) for _ in range(8)], rnd)
    framer = tmframe.TmFramerBytes(rnd.randrange(20, 120), scid=3, has_fecf=False)
    frames = []
    for p in pkts:
        frames.extend(framer.add_packet(p))
    frames.extend(framer.flush())
    ext = tm_extractor.PacketExtractor(max_packet_len=rnd.choice([7, 64, 4102]))
    with no_hang():
        for raw in frames:
            bad = bytearray(raw)
            for _ in range(rnd.randrange(flips)):
                bad[rnd.randrange(len(bad))] ^= 1 << rnd.randrange(8)
            if rnd.random() < 0.1:
                bad = bad[: rnd.randrange(len(bad) + 1)]
            try:
                f = tmframe.unpack(bytes(bad), False)
            except errors.ProtocolError:
                continue
            for p in ext.feed(f):
                assert len(p) <= ext.max_packet_len and (p[0] >> 5) == 0


@given(
    st.lists(
        st.tuples(
            st.integers(0, 7),
            st.integers(0, 255),
            st.integers(0, 255),
            st.integers(0, 0x7FF),
            st.binary(min_size=1, max_size=80),
            st.integers(0, 1),
        ),
        max_size=30,
    )
)
def test_extractor_survives_arbitrary_frame_sequences(seq):
    ext = tm_extractor.PacketExtractor(max_packet_len=100, vcid=0)
    with no_hang():
        for vcid, mc, vc, fhp, data, sync_flag in seq:
            frame = tmframe.TmFrame(1, vcid, mc, vc, fhp, data, sync_flag=sync_flag)
            for p in ext.feed(frame):
                total = ((p[4] << 8) | p[5]) + 7
                assert len(p) == total <= 100
