"""Small real bundles (firmware_builds.build on a few tiny modules) and a board's boot directory for
the in-orbit update tests (test_update.py: the onboard module alone; test_update_over_link.py: the
whole campaign over the twin's link)."""

from __future__ import annotations

import hashlib
import importlib
import json
import shutil
import sys
from pathlib import Path

from firmware_builds.build import build

ROOT = Path(__file__).resolve().parents[2]
TABLE = "TABLE = (%s)\n" % ", ".join(str(i * 7919 % 65521) for i in range(400))  # several 512 B chunks
APP = """import boot_select

VERSION = %r


def main():
    print("app", VERSION)
    boot_select.mark_good()
"""


def source(root: Path, *, util: str = "a + b", v3: bool = False, main: str | None = None) -> Path:
    """A tiny source tree; `main` replaces flight/main.py (a broken build)."""
    for pkg in ("protocols", "hal", "flight"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "protocols" / "util.py").write_text("def add(a, b):\n    return %s\n" % util)
    (root / "protocols" / "table.py").write_text(TABLE)
    if v3:  # v3 adds a module and drops hal/pins.py and the whole hal/drivers folder
        (root / "protocols" / "extra.py").write_text("X = 3\n")
    else:
        (root / "hal" / "pins.py").write_text("LED = 25\n")
        (root / "hal" / "drivers").mkdir(exist_ok=True)
        (root / "hal" / "drivers" / "__init__.py").write_text("")
        (root / "hal" / "drivers" / "led.py").write_text("ON = 1\n")
    (root / "flight" / "main.py").write_text(main or APP % "1")  # the same in every version unless given
    for name in ("update.py", "slot_manifest.py", "errors.py"):  # what the radio update runs, its errors
        (root / "flight" / name).write_text((ROOT / "flight" / name).read_text())
    return root


def manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def install(slot: Path, bundle: Path, rels) -> None:
    for rel in rels:
        (slot / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle / rel, slot / rel)


def slot_tree(slot: Path) -> dict[str, str]:
    return {
        p.relative_to(slot).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(slot.rglob("*"))
        if p.is_file()
    }


def expected(bundle: Path) -> dict[str, str]:
    want = {rel: info["sha256"] for rel, info in manifest(bundle)["files"].items()}
    want["manifest.json"] = hashlib.sha256((bundle / "manifest.json").read_bytes()).hexdigest()
    return want


def fresh_boot_select():
    sys.modules.pop("firmware_builds.boot_select", None)
    mod = importlib.import_module("firmware_builds.boot_select")
    sys.modules.pop("firmware_builds.boot_select", None)  # every test (and "reboot") gets its own
    return mod


def staged_as(slot: Path, bundle: Path) -> bool:
    """The slot holds exactly the bundle's files and a manifest.json equal to the bundle's once
    parsed (the board writes its own from the active manifest and an uplinked delta)."""
    files = {rel: info["sha256"] for rel, info in manifest(bundle)["files"].items()}
    tree = slot_tree(slot)
    return (
        tree.pop("manifest.json", None) is not None and tree == files and manifest(slot) == manifest(bundle)
    )


def make_bundles(base: Path, versions: dict[str, dict]) -> dict[str, Path]:
    """{name: bundle dir} of the emulated target, one per version's source() arguments."""
    out = {}
    for name, kw in versions.items():
        build("emulated", base / name, root=source(base / ("src_" + name), **kw))
        out[name] = base / name / "emulated"
    return out


def board_root(root: Path, bundle: Path):
    """A board as `cubesat flash deploy` leaves it: `bundle` in slot a (good), nothing on trial;
    returns a fresh boot_select module fixed to that boot directory."""
    install(root / "slot_a", bundle, [*manifest(bundle)["files"], "manifest.json"])
    (root / "slot_b").mkdir()
    bs = fresh_boot_select()
    bs.root = str(root)
    bs.write_state(
        {
            "active": "a",
            "pending": None,
            "attempts": 0,
            "max_attempts": 3,
            "slots": {
                "a": {"entry": "flight.main", "version": "0.1.0", "git_revision": "x", "board": "emulated"}
            },
        }
    )
    return bs
