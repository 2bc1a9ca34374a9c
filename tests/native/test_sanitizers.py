"""Builds the C core with AddressSanitizer + UBSan and runs the parity and fuzz tests against it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _runtime(name: str) -> str:
    path = subprocess.run(["gcc", "-print-file-name=" + name], capture_output=True, text=True).stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else ""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is needed for the sanitizer build")
def test_parity_and_fuzz_under_asan_and_ubsan(tmp_path: Path) -> None:
    asan, ubsan = _runtime("libasan.so"), _runtime("libubsan.so")
    if not asan or not ubsan:
        pytest.fail("gcc has no ASan/UBSan runtime (Debian: libgcc-12-dev)")
    build = subprocess.run(
        [sys.executable, str(ROOT / "protocols/_native/build.py"), "--outdir", str(tmp_path), "--sanitize"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert build.returncode == 0, build.stderr[-4000:]
    env = dict(os.environ)
    env.update(
        PROTOCOLS_NATIVE_DIR=str(tmp_path),
        LD_PRELOAD=asan + ":" + ubsan,
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
        HYPOTHESIS_PROFILE="default",
    )
    tests = [
        "tests/native/test_parity.py",
        "tests/native/test_parity_arguments.py",
        "tests/protocols/test_link_ref.py",
        "tests/portable/test_rs.py",
    ]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *tests],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    out = run.stdout[-4000:] + run.stderr[-4000:]
    assert run.returncode == 0, out
    assert "runtime error" not in out and "AddressSanitizer" not in out
    # the sanitizer build was really the one loaded
    probe = subprocess.run(
        [sys.executable, "-c", "from protocols._native import wrap; print(wrap._core.__file__)"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert str(tmp_path) in probe.stdout
