"""CFDP per-PDU CPU time on MicroPython's unix port, the board's lean machines against the full
ones in the same run (./dev.sh bench -k cfdp_board_time), scaled to the boards by their published
speed factors (hal/boards: `speed_vs_unix`, the one source). Runs tests/bench/cfdp_timing.py,
writes .bench/cfdp_board_time.json and prints a table. No timed asserts: the test checks that
every operation ran on both.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import upy_timing

from hal.boards import definition

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "bench" / "cfdp_timing.py"
OUT = ROOT / ".bench" / "cfdp_board_time.json"
BOARD_FACTORS = {
    "rp2040": definition("rp2040-flight")["speed_vs_unix"],
    "samd51": definition("samd51-pycubed")["speed_vs_unix"],
    "stm32f405": definition("stm32f4-pyboard")["speed_vs_unix"],
}


@pytest.mark.benchmark(group="cfdp per PDU on the unix port, lean against full")
def test_cfdp_board_time(benchmark) -> None:
    out = benchmark.pedantic(upy_timing.run_script, (SCRIPT, "512K"), rounds=1, iterations=1)
    rows = upy_timing.rows(out, "lean_us", "full_us")
    assert set(rows) == {"rx_segment", "tx_segment", "rx_crc32_8k"}, out
    assert all(r["lean_us"] > 0 and r["full_us"] > 0 for r in rows.values()), out
    for r in rows.values():
        r["board_ms"] = {
            name: {"lean": r["lean_us"] * f / 1000, "full": r["full_us"] * f / 1000}
            for name, f in BOARD_FACTORS.items()
        }
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "interpreter": "micropython unix port (x86-64), -X heapsize=512K",
        "unit": "microseconds per operation, best of 5 batches; lean and full in the same run",
        "board_factors": BOARD_FACTORS,
        "rows": rows,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    benchmark.extra_info["rows"] = rows
    lines = ["| operation | lean µs | full µs | RP2040 (x%d) lean / full ms |" % BOARD_FACTORS["rp2040"]]
    lines.append("|---|---:|---:|---:|")
    for name, r in rows.items():
        rp = r["board_ms"]["rp2040"]
        lines.append(
            "| %s | %.1f | %.1f | %.1f / %.1f |" % (name, r["lean_us"], r["full_us"], rp["lean"], rp["full"])
        )
    print("\n" + "\n".join(lines))
