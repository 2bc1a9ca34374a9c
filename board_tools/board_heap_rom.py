"""For `cubesat heap` (board_tools/board_heap.py): a radio update that changes a ROMFS board's image,
so that staging is measured on that board as it runs there: the new slot's image built from an
uplinked romfs.patch, the running image saved from the partition into the active slot, then the
slot's files (flight/update.py, hal/rom_partition.py), those that board's bundle has in its slot
(not the simulator, not the packages in its image)."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from board_tools.board_heap_probes import HeapMeasureError
from firmware_builds.romfs import make_image
from flight.slot_manifest import write as write_manifest
from ground import romfs_patch
from hal.rom_partition import IMAGE, PATCH


@dataclass(frozen=True)
class RomChange:
    running: dict  # the running image's manifest entry (the partition holds it)
    new: dict  # the new image's
    patch: bytes  # romfs.patch from one to the other, as the ground plans it
    files: frozenset[str]  # what the board's bundle has in its slot


def slot_files(hal_board: str) -> frozenset[str]:
    """The files a board's bundle keeps in its slot (firmware_builds/build.py), outside its image."""
    from firmware_builds.boards import TARGETS
    from firmware_builds.build import ROOT, sources

    target = next(t for t in TARGETS.values() if t["hal_board"] == hal_board)
    in_image = tuple(p + "/" for p in target["romfs"]["packages"])
    rels = (p.relative_to(ROOT).as_posix() for p in sources(ROOT, False, target["arch"], hal_board))
    return frozenset(r[:-3] + ".mpy" for r in rels if not r.startswith(in_image))


def rom_change(image: bytes, hal_board: str) -> RomChange:
    """An update of the ROMFS `image` in which its largest module differs by a byte."""
    stage = Path(tempfile.mkdtemp(prefix="board_heap-romfs-"))
    try:
        found = romfs_patch.files(image)
        files = {path: image[offset : offset + size] for path, offset, size in found}
        for path, data in files.items():
            (stage / path).parent.mkdir(parents=True, exist_ok=True)
            (stage / path).write_bytes(data)
        packages = tuple(sorted({path.split("/")[0] for path in files}))
        again, running = make_image(stage, packages, 1 << 20)  # its manifest entry, as the build's
        if again != image:
            raise HeapMeasureError("the ROMFS image to update is not in the build's layout")
        largest = max(files, key=lambda p: len(files[p]))
        (stage / largest).write_bytes(files[largest] + b"\0")
        new_image, new = make_image(stage, packages, 1 << 20)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    patch = romfs_patch.make(new_image, running)
    return RomChange(running=running, new=new, patch=patch, files=slot_files(hal_board))


def lay_out(flash: Path, manifest: dict, change: RomChange | None) -> None:
    """The two slots' manifests for the update probe: the same files; with `change`, the active slot runs
    its running image and slot b gets the new one's entry and the patch (nothing of a change
    staged before stays)."""
    (flash / "slot_a" / IMAGE).unlink(missing_ok=True)
    (flash / "slot_b" / PATCH).unlink(missing_ok=True)
    active, new = dict(manifest), dict(manifest)
    if change is not None:
        active["romfs"], new["romfs"] = change.running, change.new
        files = {rel: info for rel, info in manifest["files"].items() if rel in change.files}
        active["files"] = new["files"] = files
        (flash / "slot_b" / PATCH).write_bytes(change.patch)
    for slot, m in (("slot_a", active), ("slot_b", new)):
        write_manifest(str(flash / slot / "manifest.json"), m, sorted(m["files"].items()))


def read_manifest(flash: Path) -> dict:
    return json.loads((flash / "slot_a" / "manifest.json").read_text())
