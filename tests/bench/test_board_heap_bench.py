"""The flight application's heap per board, 30 simulated minutes on the emulated board (./dev.sh bench).

board_tools/board_heap.py flies the .mpy bundle on 32-bit MicroPython (WebAssembly) with housekeeping
and an authenticated ping every 10 s, and records per bundle target: its board's budget, what the
application needs (live heap + its own chips against the sim-twin + the worst tick + its board's
modules + native code) and the spare.
Written to .bench/board_heap.json and into the benchmark JSON's extra_info; the budgets themselves
are asserted in CI by tests/emuboard/test_board_heap.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from board_tools import board_heap_targets
from firmware_builds.boards import TARGETS

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".bench" / "board_heap.json"
MINUTES = 30


@pytest.mark.benchmark(group="flight heap per board (emulated, 32-bit)")
def test_board_heap(benchmark, tmp_path: Path) -> None:
    figures = benchmark.pedantic(
        board_heap_targets.measure_targets, args=(tmp_path, MINUTES), rounds=1, iterations=1
    )
    assert figures.commands_verified == figures.commands_sent == MINUTES * 6
    rows = board_heap_targets.budget_table(figures, TARGETS)
    benchmark.extra_info["figures"] = figures.as_dict()
    benchmark.extra_info["boards"] = rows
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps({"minutes": MINUTES, "figures": figures.as_dict(), "boards": rows}, indent=1))
    print()
    for r in rows:
        print(
            "%-8s budget %6d  needs %6d  spare %4.0f%%"
            % (r["target"], r["budget"], r["need"], 100 * r["spare"])
        )
