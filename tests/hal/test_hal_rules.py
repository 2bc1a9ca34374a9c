"""The MicroPython and layering rules of DESIGN.md, checked on the source of every hal/ module:
only the allowed modules are imported, `time` only through hal.clock, `machine` only in the
real-board factory, `vfs` only in the ROM partition's module, and drivers never reach into the
simulation or the boards (flight code gets real or simulated buses injected; a driver that
imported hal.sim would fly the simulator)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HAL = ROOT / "hal"
ALLOWED = {
    "struct",
    "binascii",
    "hashlib",
    "json",
    "os",
    "sys",
    "gc",
    "array",
    "collections",
    "micropython",
    "math",
    "hal",
    "protocols",
}
ONLY_IN = {
    "time": {"hal/clock.py"},
    "machine": {"hal/boards/machine_board.py"},
    "vfs": {"hal/rom_partition.py"},  # the ROM partition (MicroPython >= 1.25)
}
FORBIDDEN_IN_DRIVERS = ("hal.sim", "hal.boards")


def _sources() -> list[Path]:
    return sorted(HAL.rglob("*.py"))


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module or "")
    return names


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_there_are_hal_sources() -> None:
    assert len(_sources()) > 20


@pytest.mark.parametrize("path", _sources(), ids=_rel)
def test_imports_follow_the_micropython_rules(path: Path) -> None:
    rel = _rel(path)
    for name in _imports(path):
        top = name.split(".")[0]
        if top in ONLY_IN:
            assert rel in ONLY_IN[top], "%s imports %s (only %s may)" % (rel, name, sorted(ONLY_IN[top]))
        else:
            assert top in ALLOWED, "%s imports %s, not allowed on MicroPython boards" % (rel, name)


@pytest.mark.parametrize("path", sorted((HAL / "drivers").glob("*.py")), ids=_rel)
def test_drivers_do_not_import_the_simulation_or_boards(path: Path) -> None:
    for name in _imports(path):
        assert not name.startswith(FORBIDDEN_IN_DRIVERS), "%s imports %s" % (_rel(path), name)
