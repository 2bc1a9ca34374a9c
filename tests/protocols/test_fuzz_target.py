"""The atheris target (fuzz/atheris_decoders.py) reaches the link decoders at their real sizes.

Runs its one-input function, without atheris, on a few hundred deterministic inputs and
counts what the RS, CLTU, CADU and TM/TC frame decoders were given: full 255*I codeblocks,
CLTUs of many codeblocks, whole CADU streams, 1115-byte TM frames. The target raises on any
finding (an exception outside protocols.errors, C and pure paths disagreeing), so this is
also a small regression run of the fuzzer.
"""

from __future__ import annotations

import importlib.util
import random
from collections import defaultdict
from pathlib import Path

import pytest

from protocols import cltu, errors, rs, sync, tcframe, tmframe
from protocols._accel import native

ROOT = Path(__file__).resolve().parents[2]


def _load_target():
    spec = importlib.util.spec_from_file_location("atheris_decoders", ROOT / "fuzz" / "atheris_decoders.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _inputs(target, n=360):
    """n inputs spread over the link targets and the four body modes, reproducible."""
    r = random.Random(20261130)
    out = []
    for i in range(n):
        link = i % len(target.LINK)
        mode = (i // len(target.LINK)) % 4
        a = r.randrange(256)
        b = r.randrange(64) << 2 | mode
        if mode in (target.li.RAW, target.li.RAW_SIZED):
            body = r.randbytes(r.choice([0, 5, 60, 400]))
        else:
            nops = r.choice([0, 1, 2, 4, 10, 40])
            resize = r.randbytes(1) if mode == target.li.CORRUPT_RESIZED else b""
            body = resize + r.randbytes(4 * nops)
        pick = link + len(target.LINK) * r.randrange(2)
        out.append(bytes([pick, a, b]) + body)
    return out


def _count(monkeypatch, seen, owner, name, key=None, method=False, wrap_class=False):
    """Replace owner.name by a wrapper that records the length of its first argument and
    the result (or the ProtocolError's class name). method: owner is a class, skip self/cls."""
    original = getattr(owner, name)
    if wrap_class:
        original = original.__func__

    def counting(*args, **kwargs):
        first = args[1] if method or wrap_class else args[0]
        try:
            result = original(*args, **kwargs)
        except errors.ProtocolError as exc:
            seen[key or name].append((len(first), type(exc).__name__))
            raise
        seen[key or name].append((len(first), result))
        return result

    monkeypatch.setattr(owner, name, classmethod(counting) if wrap_class else counting)


def test_the_fuzz_target_reaches_every_link_decoder_at_real_sizes(monkeypatch):
    target = _load_target()
    seen = defaultdict(list)
    _count(monkeypatch, seen, rs, "decode_py")
    _count(monkeypatch, seen, rs, "decode_batch_py")
    _count(monkeypatch, seen, cltu, "decode")
    _count(monkeypatch, seen, cltu.CltuReceiver, "feed", "cltu_receiver", method=True)
    _count(monkeypatch, seen, tmframe, "unpack")
    _count(monkeypatch, seen, tcframe.TcFrame, "unpack", "tc_unpack", wrap_class=True)
    _count(monkeypatch, seen, sync.CaduDecoder, "feed", "cadu_feed", method=True)
    if native is not None:
        _count(monkeypatch, seen, native, "decode", "native_decode")

    for data in _inputs(target):
        target.test_one_input(data)

    # RS: whole codeblocks at every depth, some corrected, some beyond repair
    full = {n for n, _ in seen["decode_py"] if n in {255 * d for d in rs.INTERLEAVE_DEPTHS}}
    assert {255, 255 * 5, 255 * 8} <= full, sorted(full)
    results = [res for _, res in seen["decode_py"]]
    assert any(isinstance(res, tuple) and res[1] > 0 for res in results), "RS never corrected anything"
    assert any(isinstance(res, tuple) and res[1] == 0 for res in results)
    assert "UncorrectableError" in results
    if native is not None:
        # both paths every time (the C path hands bad geometries to decode_py too)
        assert {n for n, _ in seen["native_decode"]} == {n for n, _ in seen["decode_py"]}
    assert any(n >= 2 * 255 for n, _ in seen["decode_batch_py"]), "no multi-block batch"
    # CLTU: many codeblocks, decoded, and the streaming receiver
    cltus = [n for n, res in seen["decode"] if isinstance(res, tuple)]
    assert len(cltus) >= 5 and max(cltus) > 2 + 8 * 100 + 8, sorted(cltus)[-5:]
    assert any(n > 500 for n, _ in seen["cltu_receiver"])  # fed in two chunks
    # CADU streams of 1279-byte CADUs (I=5, 1115-byte frames) that decode into frames
    assert any(n >= 1279 for n, _ in seen["cadu_feed"])
    assert any(isinstance(res, list) and res for _, res in seen["cadu_feed"]), "no CADU decoded"
    # TM frames of 1115 bytes parsed, TC frames of hundreds of bytes parsed
    tm_ok = [n for n, res in seen["unpack"] if isinstance(res, tmframe.TmFrame)]
    assert 1115 in tm_ok
    assert any(n == 1115 and res == "CrcError" for n, res in seen["unpack"])
    tc_ok = [n for n, res in seen["tc_unpack"] if isinstance(res, tcframe.TcFrame)]
    assert tc_ok and max(tc_ok) > 500, sorted(tc_ok)[-5:]


def test_corruption_ops_land_where_they_say():
    target = _load_target()
    seed = bytes(100)
    got = target.li.shape(seed, target.li.CORRUPT, bytes([0, 10, 0xFF, 2]))
    assert got == bytes(10) + b"\xff" * 3 + bytes(87)
    assert target.li.shape(seed, target.li.CORRUPT_RESIZED, bytes([0x80 | 30])) == bytes(70)
    assert len(target.li.shape(seed, target.li.CORRUPT_RESIZED, bytes([20]))) == 120
    assert target.li.shape(seed, target.li.RAW_SIZED, b"ab") == b"ab" * 50
    assert target.li.shape(seed, target.li.RAW, b"ab") == b"ab"


@pytest.mark.parametrize("nbad", [16, 17])
def test_the_rs_oracle_knows_the_correction_limit(nbad):
    target = _load_target()
    _payload, block = target.li.rs_seed(223, 1, True)
    got = bytearray(block)
    for i in range(nbad):
        got[i * 7] ^= 0x5A
    assert target.li.damaged_symbols_ok(block, bytes(got), 1) == (nbad <= 16)
