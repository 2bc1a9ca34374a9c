"""Frame synchronizer and CADU decoder under hypothesis: random chunkings give the same
frames; noisy streams (garbage between CADUs, ASM bit errors, dropped and inserted bytes,
byte errors) give back the frames sent; the whole downlink round trip with RS I=5; fuzzing
of every decoder (only ProtocolError subclasses, no hang)."""

from __future__ import annotations

import random

from hangguard import no_hang
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import errors, rs, sync, tm_extractor, tmframe
from protocols import spacepacket as sp


def _garbage(rnd, n):
    """Random bytes without an ASM in them (a real ASM in the garbage is a different test)."""
    out = bytearray(rnd.randbytes(n))
    while sync.find_asm(out) >= 0:
        out[sync.find_asm(out)] ^= 0x80
    return bytes(out)


def _frames(rnd, count, frame_len):
    data_len = frame_len - 12
    return [tmframe.pack(frame_len, 7, 1, i, i, 0, rnd.randbytes(data_len), bytes(4)) for i in range(count)]


def _corrupt(cadu, depth, per_codeword, rnd):
    """Byte errors in the codeblock, at most per_codeword in each interleaved codeword."""
    n = len(cadu) - 4
    for cw in range(depth):
        for pos in rnd.sample(range(cw, n, depth), rnd.randrange(per_codeword + 1)):
            cadu[4 + pos] ^= rnd.randrange(1, 256)


def _chunked(dec, stream, rnd, final=True):
    out = []
    pos = 0
    while pos < len(stream):
        n = rnd.randrange(1, 400)
        out.extend(dec.feed(stream[pos : pos + n]))
        pos += n
    if final:
        out.extend(dec.flush())
    return out


def _counts(s):
    return (s.frames, s.asm_misses, s.asm_bit_errors, s.lock_losses, s.slips, s.bytes_skipped, s.state)


@given(st.integers(0, 2**32), st.sampled_from([1, 2, 5]))
def test_random_chunkings_give_the_same_codeblocks(seed, depth):
    rnd = random.Random(seed)
    frame_len = 30 * depth
    stream = bytearray(rnd.randbytes(rnd.randrange(60)))
    for f in _frames(rnd, 6, frame_len):
        stream += sync.build_cadu(f, depth) + rnd.randbytes(rnd.choice([0, 0, 0, 1, 5, 40]))
    for _ in range(rnd.randrange(30)):
        stream[rnd.randrange(len(stream))] ^= 1 << rnd.randrange(8)
    if rnd.random() < 0.3:
        cut = rnd.randrange(len(stream))
        del stream[cut : cut + rnd.randrange(1, 20)]
    stream = bytes(stream)
    results = []
    for _ in range(3):
        s = sync.FrameSync(frame_len + 32 * depth)
        results.append((_chunked(s, stream, rnd), _counts(s)))
    one = sync.FrameSync(frame_len + 32 * depth)
    results.append((one.feed(stream) + one.flush(), _counts(one)))
    assert all(r == results[0] for r in results)


@given(st.integers(0, 2**32), st.sampled_from([1, 3, 5, 8]))
def test_garbage_gaps_asm_bit_errors_and_byte_errors_lose_nothing(seed, depth):
    rnd = random.Random(seed)
    frame_len = rnd.randrange(1, 224) * depth  # shortened codeblocks too
    frames = _frames(rnd, 8, max(frame_len, 16 * depth))
    frame_len = len(frames[0])
    stream = bytearray(_garbage(rnd, rnd.randrange(100)))
    gaps = 0
    for i, f in enumerate(frames):
        cadu = bytearray(sync.build_cadu(f, depth))
        if i and rnd.random() < 0.3:
            stream += _garbage(rnd, rnd.randrange(1, 33))  # within the slip window: re-aligned
            gaps += 1
        elif i:  # (the search itself wants one exact ASM to lock on)
            for _ in range(rnd.randrange(3)):  # up to 2 wrong ASM bits are tolerated
                cadu[rnd.randrange(4)] ^= 1 << rnd.randrange(8)
        _corrupt(cadu, depth, 16, rnd)  # up to E=16 byte errors in every codeword
        stream += cadu
    dec = sync.CaduDecoder(frame_len, depth)
    with no_hang():
        got = _chunked(dec, bytes(stream), rnd)
    assert got == frames
    assert dec.uncorrectable == 0 and dec.sync.lock_losses == 0 and dec.sync.slips == gaps


@given(st.integers(0, 2**32), st.integers(1, 30))
def test_dropped_bytes_cost_only_the_damaged_frame(seed, drop):
    rnd = random.Random(seed)
    frames = _frames(rnd, 7, 100)
    cadus = [sync.build_cadu(f, 1) for f in frames]
    victim = rnd.randrange(1, 6)
    at = rnd.randrange(4, len(cadus[victim]) - drop)
    cadus[victim] = cadus[victim][:at] + cadus[victim][at + drop :]
    dec = sync.CaduDecoder(100, 1)
    got = _chunked(dec, b"".join(cadus), rnd)
    # a drop near the end of a codeblock can be within what RS corrects (the missing bytes
    # shift at most 16 symbols of each codeword)
    rescued = frames[victim] in got
    assert [f for f in got if f != frames[victim]] == frames[:victim] + frames[victim + 1 :]
    assert dec.sync.slips == 1 and dec.sync.lock_losses == 0 and dec.uncorrectable == (0 if rescued else 1)


@given(st.integers(0, 2**32), st.sampled_from([1, 2, 5]))
def test_noisy_stream_never_yields_a_wrong_frame(seed, depth):
    rnd = random.Random(seed)
    frame_len = 40 * depth
    frames = _frames(rnd, 6, frame_len)
    stream = bytearray(rnd.randbytes(rnd.randrange(0, 50)))
    for f in frames:
        stream += sync.build_cadu(f, depth) + rnd.randbytes(rnd.choice([0, 0, 0, 3, 50]))
    for _ in range(rnd.randrange(0, 60)):
        stream[rnd.randrange(len(stream))] ^= 1 << rnd.randrange(8)
    for _ in range(rnd.randrange(3)):
        cut = rnd.randrange(len(stream))
        del stream[cut : cut + rnd.randrange(1, 10)]
    dec = sync.CaduDecoder(frame_len, depth)
    with no_hang():
        got = []
        pos = 0
        while pos < len(stream):
            n = rnd.randrange(1, 300)
            got.extend(dec.feed_frames(bytes(stream[pos : pos + n])))
            pos += n
        got.extend(dec.flush_frames())
    for f in got:  # RS-corrected frames that pass the FECF are the transmitted ones
        assert f.pack() in frames


@settings(max_examples=30)
@given(st.integers(0, 2**32))
def test_downlink_round_trip_rs_i5_with_frame_loss(seed):
    rnd = random.Random(seed)
    frame_len = 223 * 5
    framer = tmframe.TmFramerBytes(frame_len, scid=0x2C, vcid=2)
    pkts = [
        sp.SpacePacket(sp.TM, rnd.randrange(0x7FF), rnd.randbytes(rnd.randrange(1, 3000)), i).pack()
        for i in range(rnd.randrange(5, 25))
    ]
    frames = []
    for i, p in enumerate(pkts):
        framer.clcw.report_value = i
        frames.extend(framer.add_packet(p))
    frames.extend(framer.flush())
    destroyed = rnd.randrange(len(frames)) if rnd.random() < 0.7 else None
    stream = bytearray(_garbage(rnd, rnd.randrange(300)))
    for i, f in enumerate(frames):
        cadu = bytearray(sync.build_cadu(f, 5))
        if i == destroyed:
            for k in range(4, len(cadu)):
                cadu[k] ^= rnd.randrange(256)
        else:
            _corrupt(cadu, 5, 16, rnd)
        stream += cadu
    dec = sync.CaduDecoder(frame_len, 5)
    ext = tm_extractor.PacketExtractor(max_packet_len=3100)
    got = []
    pos = 0
    while pos < len(stream):
        n = rnd.randrange(1, 5000)
        for f in dec.feed_frames(bytes(stream[pos : pos + n])):
            assert f.clcw() is not None
            got.extend(ext.feed(f))
        pos += n
    for f in dec.flush_frames():
        got.extend(ext.feed(f))
    if destroyed is None:
        assert got == pkts and ext.lost_frames == 0
        return
    assert dec.uncorrectable == 1
    if destroyed in (0, len(frames) - 1):
        assert ext.lost_frames == 0  # no frame before or after it to show the gap
    else:
        assert ext.lost_frames == 1
    # exactly the packets that touch the destroyed frame are missing: the extractor resyncs
    # at the first header pointer of the next frame
    dlen = tmframe.data_field_len(frame_len)
    expect = []
    start = 0
    for p in pkts:
        if not start // dlen <= destroyed <= (start + len(p) - 1) // dlen:
            expect.append(p)
        start += len(p)
    assert got == expect


@given(st.binary(max_size=600), st.integers(1, 300))
def test_find_asm_py_equals_bytes_find(noise, start):
    buf = noise[: len(noise) // 2] + sync.ASM + noise[len(noise) // 2 :]
    for s, e in ((0, None), (start, None), (start, start + 40), (3, len(buf) - 1)):
        end = len(buf) if e is None else min(e, len(buf))
        assert sync.find_asm_py(buf, s, e) == buf.find(sync.ASM, s, end)
        assert sync.find_asm_py(memoryview(buf), s, e) == buf.find(sync.ASM, s, end)
        assert sync.find_asm(bytearray(buf), s, e) == buf.find(sync.ASM, s, end)


@given(st.binary(max_size=3000), st.integers(1, 300), st.sampled_from([1, 2, 4]))
def test_decoders_on_garbage_never_raise_or_hang(blob, block, depth):
    with no_hang():
        s = sync.FrameSync(block, flywheel=block % 4, max_asm_bit_errors=block % 3, slip_window=block % 40)
        for b in s.feed(blob) + s.flush():
            assert len(b) == block
        dec = sync.CaduDecoder(20 * depth, depth)
        for f in dec.feed(blob) + dec.flush():
            assert len(f) == 20 * depth
        dec.feed_frames(blob)
        for i in range(0, len(blob), 97):
            dec.feed(blob[i : i + 97])


@given(st.integers(0, 2**32))
def test_mutated_cadu_streams_only_raise_nothing(seed):
    rnd = random.Random(seed)
    stream = bytearray(b"".join(sync.build_cadu(f, 1) for f in _frames(rnd, 4, 48)))
    for _ in range(rnd.randrange(1, 200)):
        op = rnd.random()
        pos = rnd.randrange(len(stream))
        if op < 0.6:
            stream[pos] ^= 1 << rnd.randrange(8)
        elif op < 0.8:
            del stream[pos : pos + rnd.randrange(1, 8)]
        else:
            stream[pos:pos] = rnd.randbytes(rnd.randrange(1, 8))
        if not stream:
            break
    dec = sync.CaduDecoder(48, 1)
    with no_hang():
        try:
            frames = dec.feed_frames(bytes(stream)) + dec.flush_frames()
        except errors.ProtocolError as exc:  # pragma: no cover - would be a bug: nothing should raise
            raise AssertionError("decoder raised %r" % exc) from exc
    for f in frames:
        assert len(f.data) == 48 - 12
    assert dec.frames + dec.uncorrectable == dec.sync.frames


def test_rs_geometry_matches_the_contract():
    assert sync.cadu_len(223 * 5, 5) == 4 + 255 * 5
    assert rs.NROOTS == 32
