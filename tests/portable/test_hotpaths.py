"""Allocation on the link hot paths, measured on MicroPython (on CPython these only check the
bytes; tests/protocols measure CPython allocation with tracemalloc).

CRC, randomizer and CLTU encoding into preallocated buffers allocate nothing (heap_lock).
Building a downlink frame and its CADU allocates a bounded few bytes: on MicroPython every
memoryview slice is a 32-byte object, and the framer passes a handful per 1115-byte frame."""

from protocols import cltu, crc, randomizer, sync, tmframe
from protocols.pus import PusTm

try:
    import micropython
except ImportError:
    micropython = None


def _locked(fn):
    fn()
    if micropython is None:
        return True
    micropython.heap_lock()
    try:
        fn()
        return True
    except MemoryError:
        return False
    finally:
        micropython.heap_unlock()


def test_crc_randomizer_and_cltu_allocate_nothing():
    buf = bytearray(bytes(range(256)) * 4)
    want = crc.crc16_py(buf)
    assert _locked(lambda: crc.crc16_py(buf)) and crc.crc16_py(buf) == want == crc.crc16(bytes(buf))
    assert _locked(lambda: randomizer.randomize_into_py(buf, 0, len(buf)))
    frame = bytes(range(100))
    out = bytearray(cltu.encoded_len(len(frame)))
    encode_into = cltu.encode_into  # the ground's encoder, from its own module (imported on first use)
    assert _locked(lambda: encode_into(frame, out))
    assert bytes(out) == cltu.encode(frame)


def test_downlink_frame_and_cadu_allocation_is_bounded():
    import gc

    framer = tmframe.TmFramerBytes(223 * 5, 0x2A, vcid=0)
    frame = bytearray(223 * 5)
    cadu = bytearray(sync.cadu_len(223 * 5, 5))
    pkt = PusTm(3, 25, bytes(60), 0x10, 1, 1, timestamp=bytes(6)).pack()

    def one():
        framer.push(pkt)
        framer.build_into(frame, True)
        sync.build_cadu_into(frame, cadu, 5)

    one()
    if micropython is None:
        assert bytes(cadu) == sync.build_cadu(bytes(frame), 5)
        return
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        for _ in range(10):
            one()
        per_frame = (gc.mem_alloc() - before) // 10
    finally:
        gc.enable()
    assert per_frame <= 384, per_frame  # ~300 measured: a few 32-byte memoryview slices per frame
    assert bytes(cadu) == sync.build_cadu(bytes(frame), 5)
