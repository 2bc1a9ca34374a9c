"""How fast the twin flies the flight application: one simulated hour of 100 ms ticks (flight code,
then the physics), reported as the speed-up over real time and the wall time a 24 h day takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.flight_twin import FlightTwin, default_environment


@pytest.mark.benchmark(group="twin: one simulated hour of the flight application")
def test_twin_hour(benchmark, tmp_path: Path) -> None:
    runs = {"n": 0}

    def fly() -> FlightTwin:
        runs["n"] += 1
        twin = FlightTwin(tmp_path / ("f%d" % runs["n"]), default_environment(tumble_dps=8.0))
        for _ in range(36):
            twin.run_ms(100_000)
            twin.link.ground_read()
        return twin

    twin = benchmark.pedantic(fly, rounds=2, iterations=1)
    assert twin.app.executive.errors() == 0 and twin.app.modes.mode in (2, 3)
    mean = benchmark.stats.stats.mean
    benchmark.extra_info["impl"] = "ours"
    benchmark.extra_info["x_real_time"] = 3600 / mean
    benchmark.extra_info["day_wall_s"] = 24 * mean
    print("twin: %.0fx real time, a 24 h day in %.0f s" % (3600 / mean, 24 * mean))
