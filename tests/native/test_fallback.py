"""Without a C compiler the package still builds and runs, in pure Python, with one warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_build_without_compiler_falls_back_to_pure_python(tmp_path: Path) -> None:
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(
        ROOT / "protocols", tmp_path / "protocols", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    env = dict(os.environ, CC="false", LDSHARED="false")
    build = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    assert "protocols C core not built" in build.stdout
    assert not list((tmp_path / "protocols" / "_native").glob("_core*.so"))
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import protocols._accel as a, protocols.rs as rs; "
            "print(a.native is None, rs.decode is rs.decode_py)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(tmp_path)),
    )
    assert probe.stdout.split() == ["True", "True"], probe.stderr
    assert probe.stderr.count("C core unavailable") == 1


def test_protocols_pure_forces_the_pure_path() -> None:
    probe = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            "import protocols._accel as a, protocols.crc as c; "
            "print(a.native is None, c.crc16 is c.crc16_py)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PROTOCOLS_PURE="1"),
    )
    assert probe.stdout.split() == ["True", "True"], probe.stderr
