"""KISS framing with escapes, noise and limits."""

from _check import unhex

from protocols import kiss


def test_escapes_by_hand():
    assert kiss.encode(unhex("01 C0 02 DB 03")) == unhex("C0 00 01 DBDC 02 DBDD 03 C0")
    assert kiss.encode(b"", port=2, command=1) == unhex("C0 21 C0")


def test_decoder_round_trip_any_chunking():
    payloads = [bytes([0xC0, 0xDB, i]) * i for i in range(6)]
    stream = b"console noise\r\n" + b"".join(kiss.encode(p, port=1) for p in payloads)
    for size in (1, 3, 1000):
        dec = kiss.KissDecoder()
        got = []
        for i in range(0, len(stream), size):
            got.extend(dec.feed(stream[i : i + size]))
        assert got == [(1, 0, p) for p in payloads]
        assert dec.noise_bytes == len(b"console noise\r\n")


def test_bad_escape_and_oversized_frames_are_dropped_and_counted():
    dec = kiss.KissDecoder(max_frame=4)
    out = dec.feed(unhex("C0 00 01 DB 05 02 C0") + kiss.encode(b"12345") + kiss.encode(b"ok"))
    assert out == [(0, 0, b"ok")]
    assert dec.bad_escapes == 1 and dec.oversized == 1


def test_empty_frames_between_fends_are_ignored():
    dec = kiss.KissDecoder()
    assert dec.feed(unhex("C0 C0 C0")) == []
    assert dec.frames == 0
