"""CLTU under hypothesis: every single-bit error in a codeblock is corrected, every double-bit
error detected; BCH parity against a bit-list long division, the TC randomizer against its
recurrence; streaming receiver independent of chunking; decoder fuzzing."""

from __future__ import annotations

import random

from hangguard import no_hang
from hypothesis import given
from hypothesis import strategies as st

from protocols import cltu, errors, tcframe

G_BITS = [1, 1, 0, 0, 0, 1, 0, 1]  # x^7 + x^6 + x^2 + 1, highest power first


def _parity_by_long_division(info: bytes) -> int:
    bits = [(b >> (7 - k)) & 1 for b in info for k in range(8)] + [0] * 7
    for i in range(56):
        if bits[i]:
            for j, g in enumerate(G_BITS):
                bits[i + j] ^= g
    return int("".join(map(str, bits[56:])), 2)


def _flip(buf: bytearray, bit: int) -> None:
    buf[bit >> 3] ^= 0x80 >> (bit & 7)


@given(st.binary(min_size=7, max_size=7))
def test_parity_equals_long_division(info):
    assert cltu.parity_bits(info) == _parity_by_long_division(info)
    block = cltu.encode(info)[2:10]
    assert block[7] == (_parity_by_long_division(info) ^ 0x7F) << 1 and block[7] & 1 == 0


def test_tc_randomizer_equals_its_recurrence():
    # h(x) = x^8 + x^6 + x^4 + x^3 + x^2 + x + 1: a[n+8] = a[n+6]^a[n+4]^a[n+3]^a[n+2]^a[n+1]^a[n]
    a = [1] * 8
    while len(a) < 255 * 8 + 8:
        n = len(a) - 8
        a.append(a[n + 6] ^ a[n + 4] ^ a[n + 3] ^ a[n + 2] ^ a[n + 1] ^ a[n])
    seq = bytes(int("".join(map(str, a[i * 8 : i * 8 + 8])), 2) for i in range(255))
    assert seq == cltu.TC_SEQUENCE
    assert a[255 * 8 : 255 * 8 + 8] == [1] * 8  # period 255 bits


@given(st.binary(min_size=1, max_size=120), st.data(), st.booleans())
def test_every_single_bit_error_is_corrected(frame, data, rnd):
    enc = cltu.encode(frame, randomize=rnd)
    nblocks = (len(enc) - 10) // 8
    block = data.draw(st.integers(0, nblocks - 1))
    bit = data.draw(st.integers(0, 62))  # the 63 code bits (bit 63 is the filler)
    bad = bytearray(enc)
    _flip(bad, (2 + block * 8) * 8 + bit)
    out, fixed = cltu.decode(bytes(bad), randomize=rnd)
    assert out[: len(frame)] == frame and fixed == 1


@given(st.binary(min_size=7, max_size=7))
def test_all_63_single_errors_of_a_random_codeblock(info):
    block = cltu.encode(info)[2:10]
    for bit in range(64):
        bad = bytearray(block)
        _flip(bad, bit)
        assert cltu.decode_block(bad) == (info, 0 if bit == 63 else 1)


@given(st.binary(min_size=1, max_size=120), st.data())
def test_every_double_bit_error_is_detected(frame, data):
    enc = cltu.encode(frame)
    nblocks = (len(enc) - 10) // 8
    block = data.draw(st.integers(0, nblocks - 1))
    a, b = data.draw(st.lists(st.integers(0, 62), min_size=2, max_size=2, unique=True))
    bad = bytearray(enc)
    start = (2 + block * 8) * 8
    _flip(bad, start + a)
    _flip(bad, start + b)
    try:
        cltu.decode(bytes(bad))
    except errors.UncorrectableError as exc:
        assert exc.offset == 2 + block * 8 and exc.field == "cltu.codeblock"
    else:
        raise AssertionError("double error at bits %d, %d of block %d decoded" % (a, b, block))


@given(st.lists(st.binary(min_size=1, max_size=60), min_size=1, max_size=6), st.integers(0, 2**32))
def test_receiver_gives_the_same_cltus_for_any_chunking(payloads, seed):
    rnd = random.Random(seed)
    stream = bytearray()
    expect = []
    for p in payloads:
        stream += rnd.randbytes(rnd.randrange(0, 12)).replace(b"\xeb", b"\x00")
        enc = bytearray(cltu.encode(p))
        if rnd.random() < 0.3:
            _flip(enc, 16 + rnd.randrange(63))  # a single-bit error in the first codeblock
        stream += enc
        expect.append(p + b"\x55" * (-len(p) % 7))
    results = []
    for _ in range(3):
        rx = cltu.CltuReceiver()
        got = []
        pos = 0
        while pos < len(stream):
            n = rnd.randrange(1, 40)
            got.extend(rx.feed(bytes(stream[pos : pos + n])))
            pos += n
        results.append((got, rx.cltus, rx.aborted, rx.corrected_bits, rx.skipped))
    assert results[0][0] == expect
    assert all(r == results[0] for r in results)


@given(st.binary(min_size=1, max_size=300), st.integers(0, 1023))
def test_tc_frames_survive_the_cltu_round_trip(data, scid):
    frame = tcframe.TcFrame(scid, 1, data[:1017], seq=len(data) & 0xFF).pack()
    out, _ = cltu.decode(cltu.encode(frame, randomize=True), randomize=True)
    assert tcframe.unpack_with_fill(out).pack() == frame


@given(st.binary(max_size=400))
def test_decoders_on_garbage_raise_only_protocol_errors(blob):
    with no_hang():
        for args in ((), (True,), (False, False)):
            try:
                cltu.decode(blob, *args)
            except errors.ProtocolError:
                pass
        try:
            cltu.decode_block(blob)
        except errors.ProtocolError:
            pass
        rx = cltu.CltuReceiver(max_blocks=8)
        for p in rx.feed(blob):
            assert len(p) % 7 == 0 and 0 < len(p) <= 56


@given(st.binary(min_size=1, max_size=100), st.integers(0, 2**32))
def test_mutated_cltus_decode_or_raise_protocol_errors(frame, seed):
    rnd = random.Random(seed)
    bad = bytearray(cltu.encode(frame))
    for _ in range(rnd.randrange(1, 8)):
        bad[rnd.randrange(len(bad))] ^= 1 << rnd.randrange(8)
    if rnd.random() < 0.2:
        bad = bad[: rnd.randrange(len(bad) + 1)]
    with no_hang():
        try:
            cltu.decode(bytes(bad))
        except errors.ProtocolError:
            pass
        cltu.CltuReceiver().feed(bytes(bad))
