"""Hot paths on MicroPython's unix port, viper against pure in the same run (./dev.sh bench).

Runs tests/bench/viper_timing.py under the unix port (which has the viper emitter), writes
.bench/viper.json and prints a table: µs per I=5 frame RS encode (1115 bytes), randomizer over a
1279-byte CADU, CRC over 1115 bytes, CLTU decode of a 49-byte TC frame, and a whole I=5 CADU
(RS + randomizer + ASM). A board runs these 100-200x slower (../shared/BOARDS.md). No timed
asserts: the test only checks that both paths ran and the viper one was selected.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import upy_timing

from hal.boards import definition

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "bench" / "viper_timing.py"
OUT = ROOT / ".bench" / "viper.json"
# times slower than this machine's unix port: the board definitions' published figures (one source)
BOARD_FACTORS = {
    "stm32f405": definition("stm32f4-pyboard")["speed_vs_unix"],
    "rp2040": definition("rp2040-flight")["speed_vs_unix"],
}


@pytest.mark.benchmark(group="viper hot paths on the unix port")
def test_viper_hot_paths(benchmark) -> None:
    out = benchmark.pedantic(upy_timing.run_script, (SCRIPT, "192K"), rounds=1, iterations=1)
    rows = upy_timing.rows(out, "viper_us", "pure_us")
    impl = next((line.split()[1:] for line in out.splitlines() if line.split()[:1] == ["IMPL"]), None)
    assert impl == ["viper"] * 4, out
    assert len(rows) == 5 and all(r["viper_us"] > 0 and r["pure_us"] > 0 for r in rows.values()), out
    for r in rows.values():
        r["speedup"] = round(r["pure_us"] / r["viper_us"], 1)
        r["board_ms"] = {
            name: {"viper": r["viper_us"] * f / 1000, "pure": r["pure_us"] * f / 1000}
            for name, f in BOARD_FACTORS.items()
        }
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "interpreter": "micropython unix port (x86-64), -X heapsize=192K",
        "unit": "microseconds per operation, best of 5 batches; viper and pure in the same run",
        "board_factors": BOARD_FACTORS,
        "board_note": "board_ms = this machine's figure x the interpreter's factor (BOARDS.md); native code "
        "may scale differently from bytecode, so the viper figures on a board are estimates",
        "rows": rows,
    }
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    benchmark.extra_info["impl"] = "ours"
    benchmark.extra_info["viper"] = rows
    lines = [
        "| operation | viper µs | pure µs | speed-up | RP2040 (x200) viper / pure ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lines.append(
            "| %s | %.1f | %.1f | %.0fx | %.1f / %.1f |"
            % (
                name,
                r["viper_us"],
                r["pure_us"],
                r["speedup"],
                r["board_ms"]["rp2040"]["viper"],
                r["board_ms"]["rp2040"]["pure"],
            )
        )
    print("\n" + "\n".join(lines))
