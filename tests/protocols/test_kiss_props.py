"""KISS decoder fuzzed: any chunking gives the frames back, garbage never raises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocols import kiss


@given(st.lists(st.binary(max_size=100), max_size=10), st.binary(max_size=30), st.integers(1, 50))
def test_kiss_round_trip_with_leading_noise(payloads, noise, chunk):
    noise = noise.replace(b"\xc0", b"")
    stream = noise + b"".join(kiss.encode(p) for p in payloads)
    dec = kiss.KissDecoder()
    got = []
    for i in range(0, len(stream), chunk):
        got.extend(dec.feed(stream[i : i + chunk]))
    assert [p for _, _, p in got] == payloads


@given(st.binary(max_size=500))
def test_kiss_garbage_never_raises(blob):
    dec = kiss.KissDecoder(max_frame=64)
    for _, _, payload in dec.feed(blob):
        assert len(payload) <= 64
