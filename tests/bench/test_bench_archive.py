"""Archive speed: packet ingest rate and a one-parameter, one-day query over a million samples."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ground.archive import Archive

N_PACKETS = 100_000


@pytest.mark.benchmark(group="archive ingest 100k packets (file, WAL)")
def test_archive_ingest_packets(benchmark, tmp_path: Path) -> None:
    rnd = random.Random(1)
    rows = [(i * 0.01, 0x10 + i % 4, 3, 25, i & 0x3FFF, rnd.randbytes(64)) for i in range(N_PACKETS)]
    counter = {"n": 0}

    def ingest() -> Archive:
        counter["n"] += 1
        arc = Archive(tmp_path / ("ingest%d.sqlite" % counter["n"]))
        for i in range(0, N_PACKETS, 5000):  # the link hands over batches
            arc.ingest_packets(42, rows[i : i + 5000])
        return arc

    arc = benchmark.pedantic(ingest, rounds=3, iterations=1)
    assert arc.packet_count(42) == N_PACKETS
    benchmark.extra_info["bytes"] = N_PACKETS * 64
    benchmark.extra_info["impl"] = "ours"
    benchmark.extra_info["packets_per_s"] = N_PACKETS / benchmark.stats.stats.mean


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    arc = Archive(tmp_path_factory.mktemp("arc") / "big.sqlite")
    # 1,000,000 samples: 10 parameters at 1 Hz over ~28 hours
    names = ["p%d" % i for i in range(10)]
    for start in range(0, 100_000, 10_000):
        arc.ingest_samples(42, ((n, float(t), t * 0.5) for t in range(start, start + 10_000) for n in names))
    return arc


@pytest.mark.benchmark(group="archive query one parameter one day (1M samples)")
def test_archive_query_one_day(benchmark, big_archive: Archive) -> None:
    times, values = benchmark(big_archive.samples, 42, "p3", 3600.0, 3600.0 + 86400.0)
    assert len(times) == 86400 and (times[0], values[0]) == (3600.0, 1800.0)
    benchmark.extra_info["impl"] = "ours"
