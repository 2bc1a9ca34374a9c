"""Authentication against Python's hmac, and fuzzing: no forged or mutated frame is ever accepted."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from protocols import errors, sdls


@given(st.binary(max_size=200), st.binary(max_size=500))
def test_hmac_equals_stdlib(key, msg):
    assert sdls.hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


@given(st.binary(min_size=1, max_size=100), st.integers(0, 200), st.integers(1, 255))
def test_any_single_byte_change_is_rejected(payload, where, xor):
    key = bytes(range(32))
    sender = sdls.SecurityAssociation(3, key)
    header = b"\x00\x2a\x04\x20\x00"
    field = bytearray(sdls.protect(sender, header, payload))
    field[where % len(field)] ^= xor
    ep = sdls.SecurityEndpoint([sdls.SecurityAssociation(3, key)])
    try:
        ep.verify(header, bytes(field))
    except errors.ProtocolError:
        return
    raise AssertionError("a modified frame was accepted")


@given(st.binary(max_size=120))
def test_garbage_raises_only_protocol_errors(blob):
    ep = sdls.SecurityEndpoint([sdls.SecurityAssociation(3, bytes(16))])
    try:
        ep.verify(b"\x00" * 5, blob)
    except errors.ProtocolError:
        pass
