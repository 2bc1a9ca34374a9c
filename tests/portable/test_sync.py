"""ASM sync, CADUs, the frame synchronizer and the downlink chain end to end (CCSDS 131.0-B)."""

from _check import raises

from protocols import errors, randomizer, rs, sync, tm_extractor, tmframe
from protocols import spacepacket as sp


class _Lcg:
    """Tiny deterministic pseudo-random source (same numbers on every interpreter)."""

    def __init__(self, seed):
        self.state = seed

    def next(self, n):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.state >> 8) % n


def _feed(s, stream, step):
    out = []
    for i in range(0, len(stream), step):
        out.extend(s.feed(stream[i : i + step]))
    return out


def test_cadu_layout():
    frame = bytes(range(223))
    cadu = sync.build_cadu(frame, interleave=1)
    assert cadu[:4] == b"\x1a\xcf\xfc\x1d"
    assert len(cadu) == 4 + 255
    block = randomizer.randomize(cadu[4:])
    assert block == rs.encode(frame, 1)
    # the first randomized byte of a codeblock is the data XOR 0xFF (sequence starts all ones)
    assert cadu[4] == frame[0] ^ 0xFF


def test_shortened_and_interleaved_cadu():
    frame = bytes(range(100))
    cadu = sync.build_cadu(frame, interleave=2)
    assert len(cadu) == sync.cadu_len(100, 2) == 4 + 100 + 64
    assert randomizer.randomize(cadu[4:]) == rs.encode(frame, 2)
    plain = sync.build_cadu(frame, 2, dual_basis=False, randomize=False)
    assert plain[4:] == rs.encode(frame, 2, False)
    out = bytearray(200)
    assert sync.build_cadu_into(frame, out, 2) == 168 and bytes(out[:168]) == cadu
    raises(errors.EncodeError, sync.build_cadu, bytes(101), 2)
    raises(errors.EncodeError, sync.build_cadu, bytes(224), 1)
    raises(errors.EncodeError, sync.build_cadu, bytes(10), 7)


def test_find_asm():
    buf = b"\x00" * 10 + sync.ASM + b"\x01"
    assert sync.find_asm(buf) == 10
    assert sync.find_asm(buf, 11) == -1
    assert sync.find_asm(bytearray(buf), 3, 14) == 10
    assert sync.find_asm(buf, 3, 13) == -1
    assert sync.find_asm(buf, -5) == 10
    assert sync.find_asm_py(memoryview(buf), 2) == 10
    assert sync.find_asm_py(memoryview(buf), 2, 13) == -1
    assert sync.find_asm(b"") == -1
    assert sync.asm_bit_errors(b"\x1a\xcf\xfc\x1c", 0) == 1
    assert sync.asm_bit_errors(b"\xe5\x30\x03\xe2", 0) == 32


def test_sync_locks_flywheels_and_loses_lock():
    frames = [bytes([i]) * 60 for i in range(8)]
    cadus = [bytearray(sync.build_cadu(f, interleave=1)) for f in frames]
    cadus[2][0] ^= 0xFF  # ASM destroyed: flywheel keeps the frame
    cadus[4][1] ^= 0x01  # one bit wrong: still a hit
    s = sync.FrameSync(60 + 32, flywheel=1)
    stream = b"garbage" + b"".join(bytes(c) for c in cadus)
    out = _feed(s, stream, 13)
    assert len(out) == 8 and s.asm_misses == 1 and s.lock_losses == 0
    assert s.asm_bit_errors == 1 and s.bytes_skipped == 7 and s.state == sync.LOCK


def test_any_chunking_gives_the_same_codeblocks():
    rnd = _Lcg(7)
    cadus = []
    for i in range(6):
        c = bytearray(sync.build_cadu(bytes([i]) * 40, interleave=1))
        if i == 3:
            c[2] ^= 0x5A  # 4 bit errors: flywheel
        cadus.append(bytes(c) + bytes(rnd.next(3) for _ in range(rnd.next(4) if i == 1 else 0)))
    stream = b"\x1a\xcf" + b"".join(cadus) + b"\x1a"
    results = []
    for step in (1, 7, 71, len(stream)):
        s = sync.FrameSync(72)
        blocks = _feed(s, stream, step) + s.flush()
        results.append((blocks, s.frames, s.asm_misses, s.slips, s.lock_losses, s.bytes_skipped))
    assert all(r == results[0] for r in results)
    assert results[0][1] == 6


def test_slip_is_reported_for_inserted_bytes():
    cadus = [sync.build_cadu(bytes([i]) * 40, interleave=1) for i in range(6)]
    stream = b"".join(cadus[:3]) + b"\x99\x98\x97" + b"".join(cadus[3:])
    s = sync.FrameSync(72, flywheel=0)
    out = s.feed(stream)
    # the 3 inserted bytes are found within the slip window: re-aligned, lock kept, nothing lost
    assert s.slips == 1 and s.lock_losses == 0 and s.bytes_skipped == 3
    assert out == [c[4:] for c in cadus]


def test_slip_is_reported_for_dropped_bytes():
    cadus = [sync.build_cadu(bytes([i]) * 40, interleave=1) for i in range(6)]
    stream = b"".join(cadus[:2]) + cadus[2][:30] + cadus[2][35:] + b"".join(cadus[3:])
    s = sync.FrameSync(72, flywheel=0)
    out = _feed(s, stream, 11)
    # the ASM of CADU 3 comes 5 bytes early: found looking back, lock kept
    assert s.slips == 1 and s.lock_losses == 0 and s.asm_misses == 0
    assert len(out) == 6 and out[3:] == [c[4:] for c in cadus[3:]]
    assert out[2] != cadus[2][4:]  # the short CADU was cut at the wrong place


def test_lock_lost_after_flywheel_runs_out():
    cadus = [sync.build_cadu(bytes([i]) * 40, interleave=1) for i in range(8)]
    junk = bytes(range(100, 176)) * 3 + b"\x00\x00"  # long garbage: beyond the slip window, no ASM
    s = sync.FrameSync(72, flywheel=1, slip_window=8)
    out = s.feed(b"".join(cadus[:3]) + junk + b"".join(cadus[3:]))
    assert s.lock_losses == 1 and s.asm_misses == 2 and s.slips == 1  # re-acquired off the grid
    assert out[:3] == [c[4:] for c in cadus[:3]] and out[-5:] == [c[4:] for c in cadus[3:]]


def test_flush_decides_with_what_is_buffered():
    cadus = [bytearray(sync.build_cadu(bytes([i]) * 40, interleave=1)) for i in range(3)]
    cadus[2][0] ^= 0xFF  # the last ASM is bad: the slip window cannot fill up without more bytes
    s = sync.FrameSync(72)
    assert len(s.feed(b"".join(bytes(c) for c in cadus) + b"\x00" * 5)) == 2
    assert s.flush() == [bytes(cadus[2][4:])]
    assert s.asm_misses == 1 and s.bytes_skipped == 5 and s.state == sync.SEARCH


def test_cadu_decoder_corrects_and_parses_frames():
    frame_len = 223
    framer = tmframe.TmFramerBytes(frame_len, scid=99)
    pkts = [sp.SpacePacket(sp.TM, 5, bytes([i]) * (30 + i), seq_count=i).pack() for i in range(10)]
    raw_frames = []
    for p in pkts:
        raw_frames.extend(framer.add_packet(p))
    raw_frames.extend(framer.flush())
    stream = bytearray(b"".join(sync.build_cadu(f, interleave=1) for f in raw_frames))
    for pos in range(50, len(stream), 97):  # about 1 byte error in 97: well within RS capability
        stream[pos] ^= 0x24
    dec = sync.CaduDecoder(frame_len, interleave=1)
    ext = tm_extractor.PacketExtractor()
    got = []
    for i in range(0, len(stream), 100):
        for f in dec.feed_frames(bytes(stream[i : i + 100])):
            got.extend(ext.feed(f))
    assert got == pkts
    assert dec.corrected_symbols > 0 and dec.uncorrectable == 0 and dec.crc_errors == 0


def test_uncorrectable_codeblock_is_counted_not_raised():
    cadus = [bytearray(sync.build_cadu(bytes([i]) * 40, interleave=1)) for i in range(3)]
    for k in range(4, 60):
        cadus[1][k] ^= 0x5A
    dec = sync.CaduDecoder(40, interleave=1)
    out = dec.feed(b"".join(bytes(c) for c in cadus))
    assert out == [bytes([0]) * 40, bytes([2]) * 40]
    assert dec.uncorrectable == 1 and dec.frames == 2
    raises(errors.EncodeError, sync.CaduDecoder, 41, 2)


def test_downlink_round_trip_i5_with_noise_chunking_and_a_lost_cadu():
    # space packets -> TM frames with CLCW -> CADUs (RS I=5, dual basis) -> noisy chunked stream
    # -> synchronizer -> RS decode -> frames -> packet extractor
    rnd = _Lcg(2024)
    frame_len = 223 * 5
    framer = tmframe.TmFramerBytes(frame_len, scid=0x1AB, vcid=1)
    framer.clcw.report_value = 77
    pkts = [
        sp.SpacePacket(sp.TM, 0x40 + i % 4, bytes(rnd.next(256) for _ in range(40 + rnd.next(700))), i).pack()
        for i in range(14)
    ]
    frames = []
    for p in pkts:
        frames.extend(framer.add_packet(p))
    frames.extend(framer.flush())
    assert len(frames) >= 6
    lost = 3  # this CADU is wrecked beyond what RS can correct
    stream = bytearray(bytes(rnd.next(256) for _ in range(37)))
    for i, f in enumerate(frames):
        cadu = bytearray(sync.build_cadu(f, interleave=5))
        for _ in range(25):  # scattered byte errors: about 5 per codeword
            cadu[4 + rnd.next(len(cadu) - 4)] ^= 1 + rnd.next(255)
        if i == 1:
            cadu[0] ^= 0x10  # one bit error in an ASM
        if i == lost:
            for k in range(4, 4 + 400):
                cadu[k] ^= 0xA5
        stream += cadu
        if i == 4:
            stream += b"\x00\x01\x02"  # bytes inserted between CADUs: a slip
    dec = sync.CaduDecoder(frame_len, interleave=5)
    ext = tm_extractor.PacketExtractor(vcid=1)
    got = []
    pos = 0
    while pos < len(stream):
        n = 1 + rnd.next(900)
        for f in dec.feed_frames(bytes(stream[pos : pos + n])):
            assert f.clcw().report_value == 77 and f.scid == 0x1AB
            got.extend(ext.feed(f))
        pos += n
    for f in dec.flush_frames():
        got.extend(ext.feed(f))
    assert dec.uncorrectable == 1 and dec.sync.slips == 1 and dec.sync.asm_bit_errors == 1
    assert dec.corrected_symbols >= 100 and dec.crc_errors == 0
    assert ext.lost_frames == 1 and ext.mc_lost == 1
    # every delivered packet is identical to one sent, in order; only the lost frame's are missing
    idx = [pkts.index(p) for p in got]
    assert idx == sorted(idx) and len(got) < len(pkts)
    assert got[-1] == pkts[-1] and got[0] == pkts[0]
