"""ASM sync, CADUs and the downlink chain end to end."""

from protocols import errors, randomizer, rs, sync, tmframe
from protocols import spacepacket as sp


def test_cadu_layout():
    frame = bytes(range(223))
    cadu = sync.build_cadu(frame, interleave=1)
    assert cadu[:4] == b"\x1a\xcf\xfc\x1d"
    block = randomizer.randomize(cadu[4:])
    assert block == rs.encode(frame, 1)


def test_find_asm():
    buf = b"\x00" * 10 + sync.ASM + b"\x01"
    assert sync.find_asm(buf) == 10
    assert sync.find_asm(buf, 11) == -1
    assert sync.find_asm(bytearray(buf), 3, 14) == 10


def test_sync_locks_flywheels_and_loses_lock():
    frames = [bytes([i]) * 60 for i in range(8)]
    cadus = [bytearray(sync.build_cadu(f, interleave=1)) for f in frames]
    cadus[2][0] ^= 0xFF  # ASM destroyed: flywheel keeps the frame
    s = sync.FrameSync(60 + 32, flywheel=1)
    stream = b"garbage" + b"".join(bytes(c) for c in cadus)
    out = []
    for i in range(0, len(stream), 13):
        out.extend(s.feed(stream[i : i + 13]))
    assert len(out) == 8 and s.asm_misses == 1 and s.lock_losses == 0
    assert s.bytes_skipped == 7


def test_slip_is_reported():
    cadus = [sync.build_cadu(bytes([i]) * 40, interleave=1) for i in range(6)]
    stream = b"".join(cadus[:3]) + b"\x99\x98\x97" + b"".join(cadus[3:])
    s = sync.FrameSync(72, flywheel=0)
    out = s.feed(stream)
    # the 3 inserted bytes are found within the slip window: re-aligned, lock kept, nothing lost
    assert s.slips == 1 and s.lock_losses == 0 and s.bytes_skipped == 3
    assert out == [c[4:] for c in cadus]


def test_lock_lost_after_flywheel_runs_out():
    cadus = [sync.build_cadu(bytes([i]) * 40, interleave=1) for i in range(8)]
    junk = bytes(range(100, 176)) * 3  # long garbage: beyond the slip window, no ASM
    s = sync.FrameSync(72, flywheel=1, slip_window=8)
    out = s.feed(b"".join(cadus[:3]) + junk + b"".join(cadus[3:]))
    assert s.lock_losses == 1 and s.asm_misses == 2
    assert out[:3] == [c[4:] for c in cadus[:3]] and out[-5:] == [c[4:] for c in cadus[3:]]


def test_downlink_chain_with_bit_errors():
    frame_len = 223
    framer = tmframe.TmFramer(frame_len, scid=99)
    pkts = [sp.SpacePacket(sp.TM, 5, bytes([i]) * (30 + i), seq_count=i).pack() for i in range(10)]
    raw_frames = []
    for p in pkts:
        raw_frames.extend(framer.add_packet(p))
    raw_frames.extend(framer.flush())
    stream = bytearray(b"".join(sync.build_cadu(f, interleave=1) for f in raw_frames))
    for pos in range(50, len(stream), 97):  # about 1 byte error in 97: well within RS capability
        stream[pos] ^= 0x24
    dec = sync.CaduDecoder(frame_len, interleave=1)
    ext = tmframe.PacketExtractor()
    got = []
    for i in range(0, len(stream), 100):
        for f in dec.feed(bytes(stream[i : i + 100])):
            got.extend(ext.feed(tmframe.unpack(f)))
    assert got == pkts
    assert dec.corrected_symbols > 0 and dec.uncorrectable == 0


def test_uncorrectable_codeblock_is_counted_not_raised():
    cadus = [bytearray(sync.build_cadu(bytes([i]) * 40, interleave=1)) for i in range(3)]
    for k in range(4, 60):
        cadus[1][k] ^= 0x5A
    dec = sync.CaduDecoder(40, interleave=1)
    out = dec.feed(b"".join(bytes(c) for c in cadus))
    assert out == [bytes([0]) * 40, bytes([2]) * 40]
    assert dec.uncorrectable == 1
    assert issubclass(errors.UncorrectableError, errors.DecodeError)
