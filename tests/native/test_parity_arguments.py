"""Bad arguments: the C core and the pure-Python code reject the same ones the same way.

Every public function with a C path gets arguments drawn from valid values, values just out
of range, negatives, huge ints, and wrong types (floats, bools, None, str, lists, arrays,
read-only or non-byte memoryviews). Both paths must then agree exactly: the same result (and
the same bytes written in place), or the same protocols.errors class with the same field
and offset. Any other exception (TypeError, OverflowError, IndexError, ...) is a failure.
"""

from __future__ import annotations

import array

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from protocols import crc, errors, randomizer, rs, spacepacket, sync

wrap = pytest.importorskip("protocols._native.wrap", reason="C core not built")

# --- argument strategies --------------------------------------------------------------------------

EDGE_INTS = [
    -(2**70),
    -(2**64),
    -(2**63) - 1,
    -(2**31),
    -1,
    0,
    1,
    7,
    0xFFFF,
    0x10000,
    0x1FFFF,
    2**32,
    2**63,
    2**64,
    2**70,
]
NOT_INTS = [None, 1.0, 2.5, float("nan"), True, False, "3", b"3", [3]]

INTS = st.one_of(st.integers(-1000, 70000), st.sampled_from(EDGE_INTS), st.integers())
ANY_INT = st.one_of(INTS, st.sampled_from(NOT_INTS))
# interleave: the valid depths often, so the rest of the arguments get checked too
DEPTH = st.one_of(st.sampled_from(rs.INTERLEAVE_DEPTHS), ANY_INT)

# buffer kinds: a fresh object from the same bytes for each path (some are written in place)
READABLE_KINDS = ["bytes", "bytearray", "memoryview", "mv_slice", "mv_of_bytearray"]
WRITABLE_KINDS = ["bytearray", "mv_of_bytearray", "mv_slice_of_bytearray"]
BAD_KINDS = [
    "str",
    "list",
    "int",
    "none",
    "array_B",
    "array_H",
    "mv_cast_H",
    "mv_stepped",
    "mv_readonly",
    "mv_signed",
    "bool",
]


def make(kind, data):
    if kind == "bytes":
        return bytes(data)
    if kind == "bytearray":
        return bytearray(data)
    if kind == "memoryview":
        return memoryview(bytes(data))
    if kind == "mv_slice":
        return memoryview(b"\x55" + bytes(data) + b"\xaa")[1:-1]
    if kind == "mv_of_bytearray":
        return memoryview(bytearray(data))
    if kind == "mv_slice_of_bytearray":
        return memoryview(bytearray(b"\x55" + bytes(data) + b"\xaa"))[1:-1]
    if kind == "str":
        return data.decode("latin-1")
    if kind == "list":
        return list(data)
    if kind == "int":
        return len(data)
    if kind == "none":
        return None
    if kind == "bool":
        return True
    if kind == "array_B":
        return array.array("B", data)
    if kind == "array_H":
        return array.array("H", data[: len(data) // 2 * 2])
    if kind == "mv_cast_H":
        return memoryview(bytes(data[: len(data) // 2 * 2])).cast("H")
    if kind == "mv_stepped":
        return memoryview(bytes(data) * 2)[::2]
    if kind == "mv_readonly":
        return memoryview(bytes(data))
    if kind == "mv_signed":
        return memoryview(bytearray(data)).cast("b")
    raise AssertionError(kind)


def buffers(kinds, max_size=600, min_size=0):
    return st.tuples(st.sampled_from(kinds), st.binary(min_size=min_size, max_size=max_size))


READ = buffers(READABLE_KINDS + BAD_KINDS)
WRITE = buffers(WRITABLE_KINDS + READABLE_KINDS + BAD_KINDS)


def _snapshot(obj):
    """What a call may have changed: the bytes of a buffer, nothing for other objects."""
    if isinstance(obj, bytearray):
        return bytes(obj)
    if isinstance(obj, memoryview):
        return obj.tobytes()
    return None


def _normal(value):
    """Results comparable across paths (scan_arrays gives uint32 memoryviews in C, lists in pure)."""
    if isinstance(value, tuple):
        return tuple(_normal(v) for v in value)
    if isinstance(value, memoryview):
        return list(value)
    return value


def run(fn, args):
    """(outcome, bytes of every buffer argument afterwards); outcome says value or error."""
    try:
        outcome = ("ok", _normal(fn(*args)))
    except errors.ProtocolError as exc:
        outcome = ("error", type(exc), exc.field, exc.offset)
    except Exception as exc:  # what the test is looking for
        outcome = ("NOT A ProtocolError", type(exc).__name__, str(exc))
    return outcome, [_snapshot(a) for a in args]


def same(pure, native, build):
    """Call both paths on fresh arguments from build(); they must agree, with no stray exception."""
    a = run(pure, build())
    b = run(native, build())
    assert a == b
    assert a[0][0] != "NOT A ProtocolError", a
    return a[0]


# --- one test per public function --------------------------------------------------------------


@given(READ, ANY_INT)
@example(("bytes", b"abc"), -1)
@example(("bytes", b"abc"), 0x1FFFF)
@example(("bytes", b""), 2**70)
@example(("bytes", b""), 1.5)
def test_crc16(buf, init):
    outcome = same(crc.crc16_py, wrap.crc16, lambda: (make(*buf), init))
    if type(init) is not int or not 0 <= init <= 0xFFFF:
        assert outcome[:2] == ("error", errors.ArgumentError) and outcome[2] in ("crc.data", "crc.init")


@given(READ)
def test_randomize(buf):
    same(randomizer.randomize_py, wrap.randomize, lambda: (make(*buf),))


@given(WRITE, ANY_INT, st.one_of(st.none(), ANY_INT))
@example(("bytearray", bytes(10)), -1, None)
@example(("bytearray", bytes(10)), 0, 11)
@example(("bytearray", bytes(10)), 5, 3)
@example(("bytearray", bytes(10)), 2**70, None)
def test_randomize_into(buf, start, end):
    outcome = same(randomizer.randomize_into_py, wrap.randomize_into, lambda: (make(*buf), start, end))
    if outcome[0] == "error":
        assert outcome[1] is errors.ArgumentError


def test_randomize_into_leaves_the_buffer_alone_when_it_refuses():
    for fn in (randomizer.randomize_into_py, wrap.randomize_into):
        buf = bytearray(b"\x01" * 10)
        with pytest.raises(errors.ArgumentError) as exc:
            fn(buf, 4, 11)
        assert exc.value.field == "randomizer.end" and buf == b"\x01" * 10


@given(buffers(READABLE_KINDS + BAD_KINDS, max_size=1800), DEPTH, st.booleans())
def test_rs_encode(buf, depth, dual):
    same(rs.encode_py, wrap.encode, lambda: (make(*buf), depth, dual))


@given(
    buffers(READABLE_KINDS + BAD_KINDS, max_size=500),
    buffers(WRITABLE_KINDS + READABLE_KINDS + BAD_KINDS, min_size=0, max_size=800),
    DEPTH,
    st.booleans(),
)
def test_rs_encode_into(data, out, depth, dual):
    same(rs.encode_into_py, wrap.encode_into, lambda: (make(*data), make(*out), depth, dual))


@given(buffers(READABLE_KINDS + BAD_KINDS, max_size=700), DEPTH, st.booleans())
def test_rs_decode(buf, depth, dual):
    same(rs.decode_py, wrap.decode, lambda: (make(*buf), depth, dual))


@given(
    buffers(READABLE_KINDS + BAD_KINDS, max_size=1200),
    st.one_of(st.integers(30, 300), ANY_INT),
    DEPTH,
    st.booleans(),
)
@example(("bytes", bytes(40)), -40, 1, True)
@example(("bytes", bytes(40)), 40.0, 1, True)
@example(("bytes", bytes(40)), 2**70, 1, True)
def test_rs_decode_batch(buf, block_len, depth, dual):
    same(rs.decode_batch_py, wrap.decode_batch, lambda: (make(*buf), block_len, depth, dual))


def _with_asm(buf):
    kind, data = buf
    return kind, data[: len(data) // 2] + sync.ASM + data[len(data) // 2 :]


@given(READ.map(_with_asm), ANY_INT, st.one_of(st.none(), ANY_INT))
@example(("bytes", sync.ASM * 2), 0, -1)
@example(("bytes", sync.ASM * 2), -5, None)
@example(("bytes", sync.ASM * 2), 2**70, None)
@example(("bytes", sync.ASM * 2), 0, -(2**70))
def test_find_asm(buf, start, end):
    outcome = same(sync.find_asm_py, wrap.find_asm, lambda: (make(*buf), start, end))
    if type(start) is int and (end is None or type(end) is int) and buf[0] in READABLE_KINDS:
        # bounds are clamped to the buffer, never an error
        n = len(buf[1])
        lo, hi = min(max(start, 0), n), n if end is None else min(max(end, 0), n)
        assert outcome == ("ok", buf[1].find(sync.ASM, lo, max(lo, hi)))


PACKETS = st.lists(st.tuples(st.integers(0, 7), st.binary(min_size=1, max_size=40)), max_size=12).map(
    lambda ps: b"".join(bytes([v << 5, 1, 0xC0, 0, 0, len(d) - 1]) + d for v, d in ps)
)
STREAM = st.tuples(st.sampled_from(READABLE_KINDS + BAD_KINDS), st.one_of(PACKETS, st.binary(max_size=400)))


@given(STREAM, ANY_INT, st.one_of(st.none(), ANY_INT))
@example(("bytes", bytes(20)), 0, -1)
@example(("bytes", bytes(20)), -3, None)
@example(("bytes", bytes(20)), 2**70, None)
def test_scan_packets(buf, start, end):
    same(spacepacket.scan_packets_py, wrap.scan_packets, lambda: (make(*buf), start, end))


@given(STREAM, ANY_INT, st.one_of(st.integers(0, 300), ANY_INT))
@example(("bytes", bytes(20)), 0, -1)
@example(("bytes", bytes(20)), 0, 6)
@example(("bytes", bytes(20)), 2**70, 7)
def test_split_packets(buf, start, max_len):
    same(spacepacket.split_packets_py, wrap.split_packets, lambda: (make(*buf), start, max_len))


@given(STREAM, ANY_INT, st.one_of(st.integers(0, 300), ANY_INT))
def test_scan_arrays(buf, start, max_len):
    same(spacepacket.scan_arrays_py, wrap.scan_arrays, lambda: (make(*buf), start, max_len))


def test_packet_stream_refuses_a_limit_below_one_packet():
    for bad in (6, -1, 7.0, None):
        with pytest.raises(errors.ArgumentError) as exc:
            spacepacket.PacketStream(max_packet_len=bad)
        assert exc.value.field == "spacepacket.max_len"


# --- the cases of issue 10, by name -----------------------------------------------------------


@pytest.mark.parametrize("impl", ["pure", "native"])
def test_issue_10_examples(impl):
    find_asm = sync.find_asm_py if impl == "pure" else wrap.find_asm
    crc16 = crc.crc16_py if impl == "pure" else wrap.crc16
    assert find_asm(b"abc" + sync.ASM, 0, -1) == -1  # bounds clamp to the buffer, as for start
    for init in (-1, 0x1FFFF, 2**70, 1.5, None):
        with pytest.raises(errors.ArgumentError) as exc:
            crc16(b"abc", init)
        assert exc.value.field == "crc.init"
        assert isinstance(exc.value, errors.ProtocolError) and isinstance(exc.value, errors.EncodeError)
        assert not isinstance(exc.value, errors.DecodeError)


def test_the_public_names_are_the_c_paths():
    """So the tests above compare what callers get on CPython."""
    assert crc.crc16 is wrap.crc16 and sync.find_asm is wrap.find_asm
    assert randomizer.randomize is wrap.randomize and randomizer.randomize_into is wrap.randomize_into
    assert rs.encode is wrap.encode and rs.encode_into is wrap.encode_into
    assert rs.decode is wrap.decode and rs.decode_batch is wrap.decode_batch
    assert spacepacket.scan_packets is wrap.scan_packets and spacepacket.split_packets is wrap.split_packets
    assert spacepacket.scan_arrays is wrap.scan_arrays


def test_argument_error_message_names_field_and_value_without_dumping_buffers():
    exc = errors.ArgumentError("rs.data", bytes(10000), "bytes")
    assert str(exc) == "rs.data: must be bytes, got a bytes" and exc.value == bytes(10000)
    assert str(errors.ArgumentError("crc.init", -1, "an int")) == "crc.init: must be an int, got -1"
