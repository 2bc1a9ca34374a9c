"""TC frame authentication: HMAC known answers (RFC 4231), forgery, replay, truncation, wrong key."""

from _check import raises, unhex

from protocols import errors, sdls, tcframe

KEY = bytes(range(32))


def test_hmac_sha256_rfc4231_case_1_and_2():
    assert sdls.hmac_sha256(b"\x0b" * 20, b"Hi There") == unhex(
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    )
    assert sdls.hmac_sha256(b"Jefe", b"what do ya want for nothing?") == unhex(
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_hmac_sha256_rfc4231_case_6_long_key():
    key = b"\xaa" * 131
    msg = b"Test Using Larger Than Block-Size Key - Hash Key First"
    assert sdls.hmac_sha256(key, msg) == unhex(
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    )


def _frame(sa, payload, vcid=1, seq=0):
    n = tcframe.HEADER_LEN + sdls.protected_len(sa, len(payload)) + 2
    header = tcframe.TcFrame(42, vcid, bytes(n - 7), seq=seq).pack()[:5]  # header for this length
    return tcframe.TcFrame(42, vcid, sdls.protect(sa, header, payload), seq=seq).pack()


def _endpoint():
    return sdls.SecurityEndpoint([sdls.SecurityAssociation(7, KEY, vcids=(1,))])


def _verify(ep, raw, vcid=1):
    frame = tcframe.TcFrame.unpack(raw)
    return ep.verify(raw[:5], frame.data, vcid)


def test_authentic_frames_pass_in_order():
    sender = sdls.SecurityAssociation(7, KEY)
    ep = _endpoint()
    assert _verify(ep, _frame(sender, b"cmd one")) == b"cmd one"
    assert _verify(ep, _frame(sender, b"cmd two")) == b"cmd two"
    assert ep.accepted == 2


def test_replay_is_rejected_and_counted():
    sender = sdls.SecurityAssociation(7, KEY)
    ep = _endpoint()
    raw = _frame(sender, b"fire thruster")
    _verify(ep, raw)
    exc = raises(errors.ReplayError, _verify, ep, raw)
    assert exc.last == 1 and exc.got == 1 and ep.replayed == 1


def test_forged_payload_and_header_are_rejected():
    sender = sdls.SecurityAssociation(7, KEY)
    ep = _endpoint()
    raw = bytearray(_frame(sender, b"set mode SAFE"))
    raw[14] ^= 0x01  # inside the payload; fix the CRC so only the MAC can catch it
    body = bytes(raw[:-2])
    from protocols.crc import crc16

    c = crc16(body)
    forged = body + bytes((c >> 8, c & 0xFF))
    raises(errors.AuthenticationError, _verify, ep, forged)
    assert ep.bad_mac == 1
    other_vc = _frame(sender, b"x", vcid=2)
    raises(errors.AuthenticationError, _verify, ep, other_vc, 2)
    assert ep.wrong_vc == 1


def test_wrong_key_unknown_spi_and_truncation():
    ep = _endpoint()
    raises(errors.AuthenticationError, _verify, ep, _frame(sdls.SecurityAssociation(7, bytes(32)), b"x"))
    raises(errors.AuthenticationError, _verify, ep, _frame(sdls.SecurityAssociation(9, KEY), b"x"))
    raises(errors.TruncatedError, ep.verify, b"\x00" * 5, b"\x00\x07\x00", 1)
    raises(errors.TruncatedError, ep.verify, b"\x00" * 5, b"\x00\x07\x00\x00\x00\x01" + b"\x00" * 4, 1)
    assert (ep.bad_mac, ep.unknown_spi, ep.truncated) == (1, 1, 2)


def test_sequence_window_rejects_far_future_numbers():
    sender = sdls.SecurityAssociation(7, KEY)
    ep = _endpoint()
    sender.last_sn = 1000  # far beyond the receiver's window of 64
    raises(errors.ReplayError, _verify, ep, _frame(sender, b"x"))


def test_rekey_is_wrapped_and_keys_never_print():
    ground = sdls.SecurityAssociation(7, KEY)
    board = sdls.SecurityAssociation(7, KEY)
    new_key = bytes(range(100, 132))
    wrapped = ground.wrap_key(new_key, 5)
    assert wrapped != new_key
    board.install_wrapped_key(wrapped, 5)
    ground.install_wrapped_key(wrapped, 5)
    ep = sdls.SecurityEndpoint([board])
    assert _verify(ep, _frame(ground, b"after rekey")) == b"after rekey"
    text = repr(board) + repr(ground)
    assert "redacted" in text
    for k in (KEY, new_key):
        assert k.hex() not in text and str(k) not in text
