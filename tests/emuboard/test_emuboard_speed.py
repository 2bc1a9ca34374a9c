"""The emulated board's speed factor: its clock advances by the CPU time of the Python code x the
factor, so the flight executive sees a board's task times and reports OVERRUNs; a board name
calibrates the factor at power-on. No timed asserts: on a virtual clock without a factor the board
clock does not move inside Python at all, and with a factor of 10,000 any loop is far past 100 ms."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from board_tools.emuboard import EmulatedBoard, EmulatorError

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

BUSY = "x = 0\nfor i in range(20000):\n    x += i\n"


def _exec(board: EmulatedBoard, *codes: str) -> list[str]:
    from mpremote.transport_serial import SerialTransport

    t = SerialTransport(board.port, baudrate=115200)
    out = []
    try:
        t.enter_raw_repl(soft_reset=False)
        for code in codes:
            o, err = t.exec_raw(code, timeout=60)
            assert not err, err.decode()[-2000:]
            out.append(o.decode().strip())
        t.exit_raw_repl()
    finally:
        t.close()
    return out


def _clock_probe() -> str:
    return (
        "import time\nt = time.ticks_ms()\n"
        + BUSY
        + "busy = time.ticks_diff(time.ticks_ms(), t)\n"
        + "t = time.ticks_ms()\ntime.sleep_ms(500)\nslept = time.ticks_diff(time.ticks_ms(), t)\n"
        + "print(busy, slept)"
    )


def test_speed_factor_moves_the_virtual_clock_by_cpu_time(tmp_path: Path) -> None:
    with EmulatedBoard(tmp_path / "a", uart_pty=False, virtual_clock=True) as plain:
        busy, slept = map(int, _exec(plain, _clock_probe())[0].split())
    assert busy == 0 and slept == 500  # a virtual clock alone: only sleeps move it
    with EmulatedBoard(tmp_path / "b", uart_pty=False, virtual_clock=True, speed_factor=10000) as slow:
        assert slow.speed == {"factor": 10000}
        out = _exec(slow, _clock_probe(), "import emuboard\nprint(emuboard.speed()['factor'])")
        busy, slept = map(int, out[0].split())
        factor = float(out[1])
    assert busy > 100  # 20,000 loop iterations take more than 10 us anywhere
    assert slept >= 500  # the sleep itself is idle time, never scaled; only the CPU around it is
    assert factor == 10000


def _executive_probe() -> str:
    return (
        "import sys, time\nsys.path.insert(0, '/')\nfrom flight.executive import Executive\n"
        "ev = []\nex = Executive(tick_ms=100, cpu_us=time.ticks_us, on_event=lambda *e: ev.append(e))\n"
        "def work():\n"
        + "".join("    " + ln + "\n" for ln in BUSY.splitlines())
        + "ex.add('fast', 100, 'work', work)\n"
        "for _ in range(3):\n    ex.step()\n"
        "print(ex.group('fast').overruns, len([e for e in ev if e[0] == 'OVERRUN']))"
    )


def _flash_with_executive(flash: Path) -> Path:
    for rel in ("flight/__init__.py", "flight/executive.py", "hal/__init__.py", "hal/clock.py"):
        (flash / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, flash / rel)
    return flash


def test_executive_reports_overruns_at_a_board_speed(tmp_path: Path) -> None:
    flash = _flash_with_executive(tmp_path / "f")
    with EmulatedBoard(flash, uart_pty=False, virtual_clock=True) as plain:
        assert _exec(plain, _executive_probe())[0] == "0 0"
    # factor 1000: the busy loop's 0.4 ms or more of host time is 400 ms or more of board time,
    # and a loaded host (up to half a second of it per tick) stays inside ticks_us's half period
    # (2^29 us, 537 s), past which ticks_diff wraps negative and a tick would look instant
    with EmulatedBoard(flash, uart_pty=False, virtual_clock=True, speed_factor=1000) as slow:
        assert _exec(slow, _executive_probe())[0] == "3 3"  # every tick: counted and an OVERRUN event


def test_board_name_calibrates_the_factor_at_power_on(tmp_path: Path) -> None:
    from board_tools.board_speed import published

    with EmulatedBoard(tmp_path / "c", uart_pty=False, virtual_clock=True, board_speed="rp2040") as board:
        s = board.speed
        inside = _exec(board, "import emuboard\nprint(repr(emuboard.speed()))")[0]
    assert s is not None and s["board"] == "rp2040"
    assert s["board_factor"] == published("rp2040")[1]
    assert s["kernel_us"] > 0 and s["unix_kernel_us"] > 0
    assert s["factor"] == pytest.approx(s["board_factor"] * s["unix_kernel_us"] / s["kernel_us"])
    assert ast.literal_eval(inside)["factor"] == pytest.approx(s["factor"])  # what the board itself says


def test_speed_options_are_refused_when_they_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(EmulatorError, match=r"no published figure.*--speed-factor"):
        EmulatedBoard(tmp_path, board_speed="esp32")
    with pytest.raises(EmulatorError, match="unknown board 'z80'"):
        EmulatedBoard(tmp_path, board_speed="z80")
    with pytest.raises(EmulatorError, match="not both"):
        EmulatedBoard(tmp_path, board_speed="rp2040", speed_factor=3.0)
    r = subprocess.run(
        [str(BIN / "cubesat"), "emulate", "--flash", str(tmp_path / "x"), "--board", "esp32"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "no published figure" in r.stderr, r.stdout + r.stderr
    r = subprocess.run(
        [str(BIN / "cubesat"), "emulate", "--speed-factor", "0"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and "--speed-factor" in r.stderr, r.stderr
