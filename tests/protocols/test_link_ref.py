"""Frames, CLTU and sync under hypothesis: chunkings, noise, fuzzing; TM frame header vs spacepackets."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st
from spacepackets.ccsds.tm_frame import TmTransferFrame

from protocols import cltu, errors, sync, tcframe, tm_extractor, tmframe
from protocols import spacepacket as sp


@given(
    st.integers(0, 0x3FF),
    st.integers(0, 7),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 0x7FF),
    st.binary(min_size=52, max_size=52),
    st.binary(min_size=4, max_size=4),
)
def test_tm_frame_equals_spacepackets_both_ways(scid, vcid, mc, vc, fhp, data, ocf):
    raw = tmframe.pack(64, scid, vcid, mc, vc, fhp, data, ocf=ocf, has_fecf=True)
    ref = TmTransferFrame.unpack(raw, 64, has_error_control_field=True)  # also checks our FECF
    hdr = ref.primary_header
    assert (hdr.master_channel_id.spacecraft_id, hdr.vc_id, hdr.master_ch_frame_count) == (scid, vcid, mc)
    assert hdr.vc_frame_count == vc and hdr.ocf_flag
    assert hdr.frame_datafield_status.first_header_pointer == fhp
    assert hdr.frame_datafield_status.segment_len_id == 0b11
    assert (bytes(ref.data_field), bytes(ref.op_ctrl_field)) == (data, ocf)
    assert ref.pack() == raw
    ours = tmframe.unpack(ref.pack())
    assert (ours.scid, ours.vcid, ours.mc_count, ours.vc_count, ours.fhp, ours.data) == (
        scid,
        vcid,
        mc,
        vc,
        fhp,
        data,
    )


@given(st.binary(max_size=300))
def test_frame_decoders_on_garbage(blob):
    for fn in (
        tmframe.unpack,
        lambda b: tmframe.unpack(b, False),
        tcframe.TcFrame.unpack,
        lambda b: tcframe.TcFrame.unpack(b, True, False),
        cltu.decode,
        tmframe.clcw_unpack,
    ):
        try:
            fn(blob)
        except errors.ProtocolError:
            pass
    rx = cltu.CltuReceiver()
    rx.feed(blob)
    s = sync.FrameSync(100)
    for block in s.feed(blob):
        assert len(block) == 100


@given(
    st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=15), st.integers(40, 120), st.data()
)
def test_extractor_recovers_packets_for_any_frame_size_and_chunking(payloads, frame_len, data):
    pkts = [sp.SpacePacket(sp.TM, 3, p, i).pack() for i, p in enumerate(payloads)]
    framer = tmframe.TmFramerBytes(frame_len, scid=5)
    frames = []
    for p in pkts:
        frames.extend(framer.add_packet(p))
    frames.extend(framer.flush())
    ext = tm_extractor.PacketExtractor()
    got = []
    for raw in frames:
        got.extend(ext.feed(tmframe.unpack(raw)))
    assert got == pkts


@given(st.integers(0, 2**32), st.sampled_from([1, 2, 5]))
def test_noisy_stream_never_yields_a_bad_frame(seed, depth):
    rnd = random.Random(seed)
    frame_len = 40 * depth
    frames = [
        tmframe.pack(frame_len, 1, 0, i, i, 0, bytes([i]) * (frame_len - 12), ocf=bytes(4)) for i in range(6)
    ]
    stream = bytearray(rnd.randbytes(rnd.randrange(0, 50)))
    for f in frames:
        stream += sync.build_cadu(f, depth) + rnd.randbytes(rnd.choice([0, 0, 0, 3]))
    for _ in range(rnd.randrange(0, 40)):
        stream[rnd.randrange(len(stream))] ^= 1 << rnd.randrange(8)
    dec = sync.CaduDecoder(frame_len, depth)
    pos = 0
    out = []
    while pos < len(stream):
        n = rnd.randrange(1, 300)
        out.extend(dec.feed(bytes(stream[pos : pos + n])))
        pos += n
    for f in out:  # RS-corrected frames are the transmitted ones or fail their CRC
        try:
            assert tmframe.unpack(f) is not None and bytes(f) in frames
        except errors.CrcError:
            pass
