"""Board speed factors: one published source per board, the calibration, the scaled clock and the
twin's --board-speed. No timed asserts: the twin's test reads a fake CPU clock (1 us per reading),
so its task times are exact."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from board_tools.board_speed import BoardSpeedError, board_name, published, twin_speed, unix_kernel_us
from ground import flight_twin
from ground.flight_twin import FlightTwin
from ground.twin import TwinError, TwinServer
from hal.boards import definition, names
from hal.clock import TICKS_PERIOD
from hal.sim.buses.clock import ScaledCpuClock

BIN = Path(sys.executable).parent


def test_every_flight_board_states_its_speed_and_source() -> None:
    for name in names():
        defn = definition(name)
        if defn.get("simulated"):
            continue
        assert "speed_vs_unix" in defn and defn["speed_source"], name
        assert defn["speed_vs_unix"] is None or defn["speed_vs_unix"] >= 1, name
    assert published("rp2040") == ("rp2040-flight", 200.0, definition("rp2040-flight")["speed_source"])
    assert published("stm32f4")[1] == 100.0
    assert board_name("stm32f7-pyboard") == "stm32f7-pyboard"
    with pytest.raises(BoardSpeedError, match="no published figure"):
        published("esp32c3")
    with pytest.raises(BoardSpeedError, match="unknown board 'sim'"):
        board_name("sim")


def test_scaled_clock_multiplies_elapsed_time_across_the_wrap() -> None:
    now = [TICKS_PERIOD - 50]

    def source() -> int:
        return now[0] & (TICKS_PERIOD - 1)

    clock = ScaledCpuClock(200, source)
    t0 = clock.ticks_us()
    now[0] += 100  # across the source's wrap
    assert clock.ticks_us() - t0 == 20_000
    now[0] += TICKS_PERIOD // 400  # the scaled clock wraps too, and stays in range
    t = clock.ticks_us()
    assert 0 <= t < TICKS_PERIOD


def test_twin_speed_calibrates_against_the_unix_port() -> None:
    assert twin_speed("12.5") == {"factor": 12.5}
    cal = twin_speed("rp2040")
    assert cal["board_factor"] == 200.0 and cal["unix_kernel_us"] == unix_kernel_us()
    assert cal["factor"] == pytest.approx(200.0 * cal["unix_kernel_us"] / cal["kernel_us"])
    for bad in ("0", "-3", "nan", "z80"):
        with pytest.raises(BoardSpeedError):
            twin_speed(bad)


def test_twin_at_a_board_speed_overruns_and_its_clock_follows(tmp_path: Path, monkeypatch) -> None:
    # the host's CPU clock, made deterministic: 1 us per reading, so a rate group of 3 tasks
    # measures 7 us (its own start and end, two per task) whatever the machine
    fake = [0]

    def cpu_us() -> int:
        fake[0] += 1
        return fake[0]

    monkeypatch.setattr(flight_twin, "_cpu_us", cpu_us)
    plain = FlightTwin(tmp_path / "a")
    plain.run_ms(2000)
    assert plain.t == pytest.approx(2.0) and plain.slow_ticks == 0
    assert plain.app.executive.overruns() == 0
    slow = FlightTwin(tmp_path / "b", board_speed=20_000)  # 7 us x 20,000 = 140 ms
    slow.run_ms(2000)
    assert slow.boots == 1  # no tick came near the 5 s watchdog
    fast = slow.app.executive.group("fast")
    assert fast.overruns == 20 and fast.max_us == 140_000
    assert slow.slow_ticks == 20  # every tick took longer than 100 board ms...
    assert slow.t > 2.0  # ...and the simulated clock moved by the board time the ticks took
    with pytest.raises(TwinError, match="board speed"):
        TwinServer(board_speed=-1.0)


def test_cli_twin_refuses_a_board_without_a_published_speed() -> None:
    r = subprocess.run(
        [str(BIN / "cubesat"), "twin", "--insecure", "--port", "0", "--board-speed", "esp32"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "no published figure" in r.stderr and "--board-speed" in r.stderr, r.stderr
