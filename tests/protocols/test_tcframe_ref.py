"""TC frames under hypothesis: header bits against an independent bit-string layout of
CCSDS 232.0-B 4.1.2, FECF against crcmod, round trips, corruption detection, decoder fuzzing.

spacepackets 0.32.0 has no TC transfer frame (only TM frames and USLP), so the layout is
checked field by field against a bit string built here.
"""

from __future__ import annotations

import random

import crcmod.predefined
from hangguard import no_hang
from hypothesis import given
from hypothesis import strategies as st

from protocols import errors, tcframe

CRC = crcmod.predefined.mkCrcFun("crc-ccitt-false")


frames = st.builds(
    lambda scid, vcid, seq, kind, map_id, flags, data, fecf: tcframe.TcFrame(
        scid,
        vcid,
        data,
        seq,
        kind != "AD",
        kind == "BC",
        None if kind == "BC" else map_id,
        flags,
        fecf,
    ),
    st.integers(0, 0x3FF),
    st.integers(0, 63),
    st.integers(0, 255),
    st.sampled_from(["AD", "BD", "BC"]),
    st.one_of(st.none(), st.integers(0, 63)),
    st.integers(0, 3),
    st.binary(min_size=1, max_size=300),
    st.booleans(),
)


@given(frames)
def test_header_layout_and_fecf(f):
    raw = f.pack()
    seg = f.map_id is not None
    bits = "".join(f"{b:08b}" for b in raw[:5])
    assert bits[0:2] == "00"
    assert bits[2] == ("1" if f.bypass else "0") and bits[3] == ("1" if f.control else "0")
    assert bits[4:6] == "00" and int(bits[6:16], 2) == f.scid and int(bits[16:22], 2) == f.vcid
    assert int(bits[22:32], 2) == len(raw) - 1 and int(bits[32:40], 2) == f.seq
    if seg:
        assert raw[5] == f.seq_flags << 6 | f.map_id
    body_end = len(raw) - (2 if f.has_fecf else 0)
    assert raw[5 + seg : body_end] == f.data
    if f.has_fecf:
        assert CRC(raw[:-2]) == int.from_bytes(raw[-2:], "big")
        assert CRC(raw) == 0


@given(frames)
def test_round_trip(f):
    back = tcframe.TcFrame.unpack(f.pack(), f.map_id is not None, f.has_fecf)
    assert back == f
    assert (back.scid, back.vcid, back.seq, back.bypass, back.control) == (
        f.scid,
        f.vcid,
        f.seq,
        f.bypass,
        f.control,
    )
    assert back.data == f.data and back.map_id == f.map_id


@given(frames, st.integers(0, 2**32))
def test_any_single_byte_corruption_is_caught_by_the_fecf(f, seed):
    if not f.has_fecf:
        return
    rnd = random.Random(seed)
    raw = bytearray(f.pack())
    pos = rnd.randrange(len(raw))
    raw[pos] ^= rnd.randrange(1, 256)
    try:
        tcframe.TcFrame.unpack(bytes(raw), f.map_id is not None)
    except (errors.CrcError, errors.VersionError, errors.LengthError, errors.OversizedError):
        return
    raise AssertionError("corruption at %d not detected" % pos)


@given(st.integers(0, 255))
def test_control_commands(vr):
    f = tcframe.TcFrame.unpack(tcframe.set_vr_frame(1, 2, vr).pack())
    assert f.control_command() == (tcframe.CC_SET_VR, vr)
    assert tcframe.TcFrame.unpack(tcframe.unlock_frame(1, 2).pack()).control_command() == (
        tcframe.CC_UNLOCK,
        None,
    )


@given(st.binary(max_size=1100), st.booleans(), st.booleans())
def test_decoders_on_garbage_raise_only_protocol_errors(blob, seg, fecf):
    with no_hang():
        for fn in (
            lambda b: tcframe.TcFrame.unpack(b, seg, fecf),
            lambda b: tcframe.unpack_with_fill(b, seg, fecf),
            tcframe.parse_control,
        ):
            try:
                fn(blob)
            except errors.ProtocolError:
                pass


@given(frames, st.integers(0, 2**32))
def test_mutated_frames_decode_or_raise_protocol_errors(f, seed):
    rnd = random.Random(seed)
    raw = bytearray(f.pack())
    for _ in range(rnd.randrange(1, 6)):
        raw[rnd.randrange(len(raw))] ^= 1 << rnd.randrange(8)
    if rnd.random() < 0.2:
        raw = raw[: rnd.randrange(len(raw) + 1)]
    with no_hang():
        try:
            back = tcframe.TcFrame.unpack(bytes(raw), f.map_id is not None, False)
        except errors.ProtocolError:
            return
        if back.control:
            try:
                back.control_command()
            except errors.ProtocolError:
                pass
