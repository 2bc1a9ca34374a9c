"""CBOR byte-identical to cbor2 both ways; KISS and CBOR decoders fuzzed."""

from __future__ import annotations

import math

import cbor2
from hypothesis import given
from hypothesis import strategies as st

from protocols import cbor, errors, kiss

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.binary(max_size=50)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=5) | st.integers(-(2**63), 2**63), inner, max_size=5)
    ),
    max_leaves=20,
)


@given(values)
def test_dumps_equals_cbor2(value):
    assert cbor.dumps(value) == cbor2.dumps(value)


@given(values)
def test_loads_reads_cbor2_output(value):
    back = cbor.loads(cbor2.dumps(value))
    assert cbor2.dumps(back) == cbor2.dumps(value)


@given(st.floats(width=16) | st.floats(width=32))
def test_loads_half_and_single_floats_like_cbor2(x):
    for enc in (cbor2.dumps(x, canonical=True),):
        a = cbor.loads(enc)
        b = cbor2.loads(enc)
        assert (math.isnan(a) and math.isnan(b)) or a == b


@given(st.binary(max_size=200))
def test_cbor_garbage_raises_protocol_errors_only(blob):
    try:
        cbor.loads(blob)
    except errors.ProtocolError:
        pass


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
