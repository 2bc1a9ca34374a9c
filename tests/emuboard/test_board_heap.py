"""The heap budget of every board, asserted from a measurement on a 32-bit MicroPython.

The emulated board (WebAssembly, 32-bit like every target MCU) flies the .mpy bundle for ten
simulated minutes with housekeeping downlink and an authenticated ping every 10 s, every one
verified; board_tools/board_heap.py takes the live heap after top-level collections and the largest
allocation of one tick, the simulator taken out. Each bundle target's need must match what
firmware_builds/heap_needed.json records (the figure every manifest carries, recorded from 30
minutes by `cubesat heap --write`), and a target flagged `from_mpy` must keep 15% of its board's
budget spare, while a target not flagged must not (the flag, the README and the deployer agree).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from board_tools import board_heap, board_heap_targets
from firmware_builds.boards import HEAP_FILE, TARGETS, heap_needed

MINUTES = 10
DRIFT = 0.03  # run-to-run and 10-versus-30-minute difference allowed before the record is stale


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> board_heap.HeapFigures:
    return board_heap_targets.measure_targets(tmp_path_factory.mktemp("bundles"), MINUTES)


def test_the_flight_flies_and_every_command_is_verified(measured: board_heap.HeapFigures) -> None:
    assert measured.ticks == MINUTES * 600
    assert measured.commands_sent == MINUTES * 6 and measured.commands_verified == measured.commands_sent
    # what is measured is real: the application's bytecode and state, and a tick that allocates
    assert 60_000 < measured.flight < 400_000 and measured.flight_boot <= measured.flight
    assert 1_000 < measured.worst_tick < measured.flight and measured.sim > 10_000
    assert 1_000 < measured.first_tick < measured.flight
    # 96 packets of 60-220 B, each an object of its own
    assert 96 * 60 < measured.tm_queue_full < 96 * 400
    # the file service's lean CFDP (about 12 KB of bytecode at least) and a transaction; a board
    # refuses a transfer below CFDP_HEAP free, which must cover what one takes
    from flight.file_service import CFDP_HEAP

    assert 10_000 < measured.transfer <= CFDP_HEAP
    # staging an update: its modules (~15 KB) and its state (a path and a digest a file; the
    # manifests are read an entry at a time); from ROMFS the modules' bytecode stays in flash
    assert 15_000 < measured.update < 40_000
    assert set(measured.board_update) == {
        v["hal_board"] for v in TARGETS.values() if v.get("romfs") and not v["with_sim"]
    }
    assert all(n < measured.update for n in measured.board_update.values())
    # the health report loads boot_select.mpy again (its 2.3 KB of bytecode and names, the pointer
    # read and written) and lets it go: nothing of it stays resident (_mark_good checks)
    assert 2_000 < measured.mark_good < 12_000
    assert measured.peak() >= max(
        measured.flight + measured.worst_tick,
        measured.flight_boot + measured.first_tick,
        measured.flight + measured.mark_good,
    )
    # every real board's bundle carries native (viper) code, counted at its .mpy size
    assert all(measured.native[t] > 0 for t, v in TARGETS.items() if v["arch"])
    # each real board booted on its own chips: one without the sim-twin's thrusters builds less
    from hal.boards import definition

    real = {v["hal_board"] for v in TARGETS.values() if not v["with_sim"]}
    assert set(measured.board_flight) == real
    assert all(measured.board_flight[b] < 0 for b in real if not definition(b).get("thrusters"))


def test_the_recorded_needs_are_the_measured_ones(measured: board_heap.HeapFigures) -> None:
    recorded = json.loads(HEAP_FILE.read_text())["needs"]
    now = board_heap_targets.needs(measured, TARGETS)
    figures = json.loads(HEAP_FILE.read_text())["figures"]
    for name in ("transfer", "update"):
        now[name] = getattr(measured, name)
        recorded[name] = figures.get(name)
    for board, n in measured.board_update.items():
        now["update on " + board] = n
        recorded["update on " + board] = figures.get("board_update", {}).get(board)
    stale = {
        t: (recorded.get(t), n)
        for t, n in now.items()
        if not recorded.get(t) or not (1 - DRIFT) * recorded[t] <= n <= (1 + DRIFT) * recorded[t]
    }
    assert not stale, (
        "firmware_builds/heap_needed.json is stale (recorded, measured): %s; run `cubesat heap --write`"
        % stale
    )


@pytest.mark.parametrize("target", sorted(t for t, v in TARGETS.items() if v["with_sim"] is False))
def test_each_board_budget(target: str) -> None:
    from hal.boards import definition

    budget = definition(TARGETS[target]["hal_board"])["heap_budget"]
    need = heap_needed(target)
    assert need, "no recorded need for %s" % target
    fits = need <= budget * (1 - board_heap.SPARE)
    if TARGETS[target]["from_mpy"]:  # the radio down (the TM queue full) must still fit
        worst = json.loads(HEAP_FILE.read_text())["worst"][target]
        assert need < worst <= budget, "%s: %d B with the TM queue full, over its %d B" % (
            target,
            worst,
            budget,
        )
    if TARGETS[target]["from_mpy"]:  # a file transfer and staging a radio update fit beside the flight
        figures = json.loads(HEAP_FILE.read_text())["figures"]
        hal_board = TARGETS[target]["hal_board"]
        update = figures["board_update"].get(hal_board, figures["update"])
        for what, extra in (("a file transfer running", figures["transfer"]), ("an update staging", update)):
            assert need + extra <= budget, "%s: %d B with %s, over its %d B" % (
                target,
                need + extra,
                what,
                budget,
            )
    assert fits == TARGETS[target]["from_mpy"], (
        "%s needs %d B of its %d B budget (%.0f%% spare): set from_mpy=%s in firmware_builds/boards.py "
        "and say so in the README" % (target, need, budget, 100 * (1 - need / budget), fits)
    )


def test_every_manifest_carries_the_need(tmp_path: Path) -> None:
    from firmware_builds.build import build

    for target in ("rp2040", "samd51"):
        manifest = build(target, tmp_path)
        assert manifest["heap_needed"] == heap_needed(target) > 0
