"""The portable unit tests on the emulated board too: real MicroPython (the WebAssembly port, run by
node behind a pty) must print exactly what CPython prints for the same modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from mpremote.transport_serial import SerialTransport

from board_tools.emuboard import EmulatedBoard

ROOT = Path(__file__).resolve().parents[1]
SUITES = ("tests/flight/portable", "tests/portable", "tests/hal/portable")


def _modules() -> list[str]:
    return [str(p.relative_to(ROOT)) for s in SUITES for p in sorted((ROOT / s).glob("test_*.py"))]


def _stage(flash: Path) -> None:
    for pkg in ("protocols", "hal", "flight"):
        skip = shutil.ignore_patterns("_native", "__pycache__", "*.so")
        shutil.copytree(ROOT / pkg, flash / pkg, ignore=skip)
    for suite in SUITES:
        shutil.copytree(ROOT / suite, flash / suite, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "tests" / "upy_runner.py", flash / "upy_runner.py")


@pytest.mark.parametrize("suite", SUITES)
def test_portable_suite_matches_cpython_on_the_emulated_board(tmp_path: Path, suite: str) -> None:
    mods = [m for m in _modules() if m.startswith(suite + "/")]
    flash = tmp_path / "flash"
    flash.mkdir()
    _stage(flash)
    want = subprocess.run(
        [sys.executable, "tests/upy_runner.py", *mods],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PROTOCOLS_PURE": "1", "PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    with EmulatedBoard(flash, uart_pty=False) as board:
        t = SerialTransport(board.port, baudrate=115200)
        try:
            t.enter_raw_repl(soft_reset=False)
            out, err = t.exec_raw("import upy_runner\nupy_runner.run(%r)" % mods, timeout=600)
            assert not err, err.decode()[-2000:]
            out = out.decode()
            t.exit_raw_repl()
        finally:
            t.close()
    got = [ln.rstrip("\r") for ln in out.splitlines() if ln.strip()]
    assert got[-1].endswith(" 0 failed"), "\n".join(ln for ln in got if ln.startswith("FAIL"))
    assert got == want and len(got) > 10
