"""`cubesat heap` per bundle target: what each target adds to the measurement (its native code,
its ROMFS image), the budget table against each board's heap, and the record the manifests carry
(firmware_builds/heap_needed.json). The measurement itself is board_tools/board_heap.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from board_tools.board_heap import SPARE, HeapFigures, measure
from hal.boards import definition


def measure_targets(
    work: Path, minutes: float = 30, progress: Callable[[str], None] | None = None
) -> HeapFigures:
    """Build the emulated bundle into `work` and measure it for every bundle target (see `measure`)."""
    from firmware_builds.boards import TARGETS
    from firmware_builds.build import build

    build("emulated", work)
    boards = sorted({t["hal_board"] for t in TARGETS.values() if not t["with_sim"]})
    return measure(
        work / "emulated",
        minutes,
        native=native_sizes(work, TARGETS),
        boards=boards,
        progress=progress,
        roms=rom_images(work / "emulated", TARGETS),
    )


def rom_images(bundle: Path, targets: dict[str, dict]) -> dict[str, bytes]:
    """Per board definition whose target runs packages from ROMFS: that image, made of the emulated
    bundle's .mpy (the same bytecode; native modules, which this port cannot load, are counted
    apart as for every bundle)."""
    from firmware_builds.build import unused_on
    from firmware_builds.romfs import make_image

    out = {}
    for target in targets.values():
        rom = target.get("romfs")
        if rom:  # as that board's own bundle builds it: without the modules it never imports
            leave_out = unused_on(target["hal_board"])
            out[target["hal_board"]] = make_image(bundle, rom["packages"], rom["partition"], leave_out)[0]
    return out


def native_sizes(work: Path, targets: dict[str, dict]) -> dict[str, int]:
    """Bytes of native code each target's bundle carries: its native modules compiled for its arch
    exactly as the build compiles them (no whole bundle needed), 0 for a target without one."""
    from firmware_builds.build import NATIVE_PREFIX, ROOT, compile_one, sources

    out = {}
    for name, target in targets.items():
        out[name] = 0
        for src in sources(ROOT, target["with_sim"], target["arch"]):
            rel = src.relative_to(ROOT).as_posix()
            if rel.startswith(NATIVE_PREFIX):
                dest = work / "native" / name / (rel[:-3] + ".mpy")
                dest.parent.mkdir(parents=True, exist_ok=True)
                compile_one(src, rel, dest, target["arch"])
                out[name] += dest.stat().st_size
    return out


def budget_table(figures: HeapFigures, targets: dict[str, dict]) -> list[dict]:
    """One row per bundle target: its board's budget, what it needs, the spare, and whether it fits."""
    rows = []
    for name, target in targets.items():
        defn = definition(target["hal_board"])
        budget = defn.get("heap_budget")
        if not budget:
            continue
        need = figures.need(name, target["hal_board"], target["with_sim"])
        worst = figures.worst(name, target["hal_board"], target["with_sim"])
        # the larger of a file transfer running and an update staging (both loaded on demand)
        busy = need + max(figures.transfer, figures.update_on(target["hal_board"]))
        rows.append(
            {
                "target": name,
                "board": target["hal_board"],
                "budget": budget,
                "need": need,
                "spare": 1 - need / budget,
                "fits": need <= budget * (1 - SPARE),
                "worst": worst,  # the TM queue full
                "worst_fits": worst <= budget,
                "busy": busy,  # a transfer or an update staging
                "busy_fits": busy <= budget,
                "source": defn.get("heap_source", ""),
            }
        )
    return rows


def needs(figures: HeapFigures, targets: dict[str, dict]) -> dict[str, int]:
    """What each bundle target's application needs of its board's heap, in bytes."""
    return {name: figures.need(name, t["hal_board"], t["with_sim"]) for name, t in targets.items()}


def write_record(
    path: Path, figures: HeapFigures, targets: dict[str, dict], minutes: float, today: str
) -> None:
    """The measured needs, for the build to put into every manifest (firmware_builds/heap_needed.json)."""
    record = {
        "measured": today,
        "how": "cubesat heap --minutes %g --write (board_tools/board_heap.py)" % minutes,
        "figures": figures.as_dict(),
        "needs": needs(figures, targets),
        # with the TM queue full (the radio down): within the budget, for every bundle that flies
        # from .mpy (tests/emuboard/test_board_heap.py)
        "worst": {n: figures.worst(n, t["hal_board"], t["with_sim"]) for n, t in targets.items()},
    }
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
