"""Speed of the link codecs, each next to its peer library in the same run.

    ./dev.sh bench            # JSON in .bench/results.json
    python tests/bench/report.py .bench/results.json

Every benchmark records the bytes it processes in extra_info so the report prints MB/s.
"""

from __future__ import annotations

import random

import crcmod.predefined
import numpy as np
import pytest
import reedsolo
from spacepackets.ccsds.spacepacket import PacketId, PacketType, parse_space_packets

from protocols import crc, randomizer, rs, spacepacket, sync
from protocols._accel import native

if native is None:
    pytest.skip("benchmarks measure the C core; build it with ./dev.sh setup", allow_module_level=True)

RSC = reedsolo.RSCodec(nsym=32, nsize=255, fcr=112, prim=0x187, generator=0xAD, c_exp=8)
RND = random.Random(2026)


def _codeblock(depth: int, nerr: int, dual: bool = True) -> tuple[bytes, bytes]:
    data = RND.randbytes(223 * depth)
    block = bytearray(rs.encode(data, depth, dual))
    for c in range(depth):  # nerr symbol errors in every codeword
        for p in RND.sample(range(255), nerr):
            block[p * depth + c] ^= RND.randrange(1, 256)
    return data, bytes(block)


def _reedsolo_decode(block: bytes, depth: int) -> bytes:
    out = bytearray(len(block) - 32 * depth)
    for c in range(depth):  # de-interleave, decode each codeword, interleave the data back
        out[c::depth] = RSC.decode(block[c::depth])[0]
    return bytes(out)


def _record(benchmark, nbytes: int, impl: str) -> None:
    benchmark.extra_info["bytes"] = nbytes
    benchmark.extra_info["impl"] = impl


# --- RS encode ---------------------------------------------------------------------------------
@pytest.mark.benchmark(group="rs-encode I=1")
def test_rs_encode_ours(benchmark):
    data = RND.randbytes(223)
    _record(benchmark, 223, "ours")
    assert benchmark(rs.encode, data, 1, False) == bytes(RSC.encode(data))


@pytest.mark.benchmark(group="rs-encode I=1")
def test_rs_encode_reedsolo(benchmark):
    data = RND.randbytes(223)
    _record(benchmark, 223, "reedsolo")
    benchmark.pedantic(RSC.encode, (data,), rounds=20, iterations=5)


# --- RS decode, one call per codeblock ---------------------------------------------------------
CASES = [(1, 0), (5, 0), (1, 8), (5, 8), (1, 16), (5, 16)]


@pytest.mark.parametrize(
    ("depth", "nerr"), CASES, ids=["I1-clean", "I5-clean", "I1-8err", "I5-8err", "I1-16err", "I5-16err"]
)
def test_rs_decode_ours(benchmark, depth, nerr):
    benchmark.group = "rs-decode I=%d %d errors/codeword" % (depth, nerr)
    data, block = _codeblock(depth, nerr, dual=False)
    _record(benchmark, len(block), "ours")
    out, fixed = benchmark(rs.decode, block, depth, False)
    assert out == data and fixed == nerr * depth


@pytest.mark.parametrize(
    ("depth", "nerr"), CASES, ids=["I1-clean", "I5-clean", "I1-8err", "I5-8err", "I1-16err", "I5-16err"]
)
def test_rs_decode_reedsolo(benchmark, depth, nerr):
    benchmark.group = "rs-decode I=%d %d errors/codeword" % (depth, nerr)
    data, block = _codeblock(depth, nerr, dual=False)
    _record(benchmark, len(block), "reedsolo")
    rounds = 10 if nerr == 0 else 3
    out = benchmark.pedantic(_reedsolo_decode, (block, depth), rounds=rounds, iterations=1)
    assert out == data


# --- batch decode of 1,000 clean codeblocks ------------------------------------------------------
@pytest.mark.benchmark(group="rs-decode batch 1000 clean codeblocks I=1")
def test_rs_decode_batch_ours(benchmark):
    blocks = b"".join(_codeblock(1, 0)[1] for _ in range(1000))
    _record(benchmark, len(blocks), "ours")
    _out, counts = benchmark(rs.decode_batch, blocks, 255, 1, True)
    assert counts == [0] * 1000


@pytest.mark.benchmark(group="rs-decode batch 1000 clean codeblocks I=1")
def test_rs_decode_batch_reedsolo(benchmark):
    blocks = [_codeblock(1, 0, dual=False)[1] for _ in range(1000)]
    _record(benchmark, 255 * 1000, "reedsolo")
    benchmark.pedantic(lambda: [RSC.decode(b) for b in blocks], rounds=1, iterations=1)


# --- CRC ---------------------------------------------------------------------------------------
CRCMOD = crcmod.predefined.mkCrcFun("crc-ccitt-false")


@pytest.mark.parametrize("size", [1024, 65536], ids=["1KiB", "64KiB"])
def test_crc_ours(benchmark, size):
    benchmark.group = "crc16 %d bytes" % size
    data = RND.randbytes(size)
    _record(benchmark, size, "ours")
    assert benchmark(crc.crc16, data) == CRCMOD(data)


@pytest.mark.parametrize("size", [1024, 65536], ids=["1KiB", "64KiB"])
def test_crc_crcmod(benchmark, size):
    benchmark.group = "crc16 %d bytes" % size
    data = RND.randbytes(size)
    _record(benchmark, size, "crcmod (C)")
    benchmark(CRCMOD, data)


# --- randomizer ----------------------------------------------------------------------------------
@pytest.mark.benchmark(group="randomizer 64 KiB")
def test_randomizer_ours(benchmark):
    data = RND.randbytes(65536)
    _record(benchmark, len(data), "ours")
    benchmark(randomizer.randomize, data)


@pytest.mark.benchmark(group="randomizer 64 KiB")
def test_randomizer_numpy_xor(benchmark):
    data = np.frombuffer(RND.randbytes(65536), dtype=np.uint8)
    seq = np.frombuffer((randomizer.SEQUENCE * 258)[:65536], dtype=np.uint8)
    _record(benchmark, 65536, "numpy xor")
    benchmark(lambda: np.bitwise_xor(data, seq).tobytes())


# --- space packet stream parse -----------------------------------------------------------------
APID = 0x42
STREAM = b"".join(
    spacepacket.SpacePacket(spacepacket.TM, APID, RND.randbytes(58), i & 0x3FFF).pack()
    for i in range(10_000_000 // 64)
)


@pytest.mark.benchmark(group="space packet stream parse 10 MB of 64-byte packets")
def test_packet_stream_ours(benchmark):
    _record(benchmark, len(STREAM), "ours (list of bytes)")

    def parse():
        return spacepacket.PacketStream().feed(STREAM)

    packets = benchmark.pedantic(parse, rounds=5, iterations=1)
    assert len(packets) == len(STREAM) // 64


@pytest.mark.benchmark(group="space packet stream parse 10 MB of 64-byte packets")
def test_packet_stream_ours_batch(benchmark):
    _record(benchmark, len(STREAM), "ours (zero-copy batch)")

    def parse():
        return spacepacket.PacketStream().feed_batch(STREAM)

    batch = benchmark.pedantic(parse, rounds=5, iterations=1)
    assert len(batch) == len(STREAM) // 64 and batch[7] == STREAM[7 * 64 : 8 * 64]


@pytest.mark.benchmark(group="space packet stream parse 10 MB of 64-byte packets")
def test_packet_stream_spacepackets(benchmark):
    _record(benchmark, len(STREAM), "spacepackets")
    pid = PacketId(PacketType.TM, False, APID)
    result = benchmark.pedantic(parse_space_packets, (STREAM, [pid]), rounds=2, iterations=1)
    assert len(result.tm_list) == len(STREAM) // 64


# --- CADU sync ----------------------------------------------------------------------------------
def _noisy_cadu_stream(total: int) -> bytes:
    frame = RND.randbytes(223)
    cadu = sync.build_cadu(frame, interleave=1)
    out = bytearray()
    while len(out) < total:
        if RND.random() < 0.005:  # now and then a burst of garbage shifts the stream (a slip)
            out += RND.randbytes(17)
        out += cadu
    arr = np.frombuffer(bytes(out[:total]), dtype=np.uint8).copy()
    idx = np.random.default_rng(1).integers(0, total, total // 1000)  # 1e-3 byte error rate
    arr[idx] ^= 0x10
    return arr.tobytes()


NOISY = _noisy_cadu_stream(10_000_000)


@pytest.mark.benchmark(group="CADU sync + RS decode over a 10 MB noisy stream")
def test_cadu_sync_ours(benchmark):
    _record(benchmark, len(NOISY), "ours")

    def run():
        dec = sync.CaduDecoder(223, interleave=1)
        n = 0
        for i in range(0, len(NOISY), 65536):
            n += len(dec.feed(NOISY[i : i + 65536]))
        return n, dec

    n, dec = benchmark.pedantic(run, rounds=3, iterations=1)
    sent = len(NOISY) // 259
    assert n > sent * 0.97 and dec.sync.slips > 10
