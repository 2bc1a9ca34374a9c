"""Sustained downlink with 10 spacecraft: one ground process decodes (ASM sync, de-randomize,
RS I=5, frame CRC, packet extraction, PUS, dictionary housekeeping) and archives all of them.

The downlink is recorded from 10 twins (the real flight application, distinct SCIDs, every
housekeeping set at 1 s) and replayed into one GroundStation, interleaved in link-sized chunks
as the ten links would deliver it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.archive import Archive
from ground.flight_twin import FlightTwin, default_environment
from ground.station import GroundStation

N_SC = 10
SECONDS = 300


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[bytes]]:
    streams: dict[int, list[bytes]] = {}
    for i in range(N_SC):
        scid = 100 + i
        twin = FlightTwin(tmp_path_factory.mktemp("sc%d" % scid), default_environment(soc=0.8), scid=scid)
        for sid in twin.app.telemetry.sets:
            twin.app.telemetry.sets[sid][:] = [1, 1, 1]  # every set, every second: a busy downlink
        chunks = []
        for _ in range(SECONDS):
            twin.run_ms(1000)
            chunks.append(twin.link.ground_read())
        streams[scid] = chunks
    return streams


@pytest.mark.benchmark(group="10 spacecraft downlink decode + archive")
def test_ten_spacecraft_downlink_decode_and_archive(benchmark, recorded, tmp_path: Path) -> None:
    total = sum(len(c) for chunks in recorded.values() for c in chunks)
    runs = {"n": 0}

    def decode_all() -> GroundStation:
        runs["n"] += 1
        gs = GroundStation(Archive(tmp_path / ("gs%d.sqlite" % runs["n"])))
        sessions = {scid: gs.add(scid, None) for scid in recorded}
        for second in range(SECONDS):  # the ten links deliver in turn, second by second
            for scid, chunks in recorded.items():
                gs.ingest(sessions[scid], chunks[second], second * 1000)
        gs.flush()
        return gs

    gs = benchmark.pedantic(decode_all, rounds=3, iterations=1)
    reports = sum(s.hk_reports for s in gs.sessions.values())
    for scid, s in gs.sessions.items():
        assert s.downlink.foreign_frames == 0 and s.downlink.crc_failures == 0
        assert s.hk_reports >= 3 * (SECONDS - 2), (scid, s.hk_reports)
        times, soc = gs.archive.samples(scid, "soc", 0, 1e9)
        assert len(times) >= SECONDS - 2 and 0 < soc.min() <= soc.max() <= 1
    mean = benchmark.stats.stats.mean
    benchmark.extra_info["impl"] = "ours"
    benchmark.extra_info["bytes"] = total
    benchmark.extra_info["mb_per_s"] = total / mean / 1e6
    benchmark.extra_info["reports_per_s"] = reports / mean
    benchmark.extra_info["sim_seconds_per_s"] = N_SC * SECONDS / mean
    print(
        "10 spacecraft: %.1f MB of CADUs, %d housekeeping reports decoded + archived in %.2f s "
        "(%.1f MB/s, %.0f reports/s, %.0fx real time for 10 spacecraft)"
        % (total / 1e6, reports, mean, total / mean / 1e6, reports / mean, SECONDS / mean)
    )
