"""`cubesat emulate`: the emulated board from the CLI answers mpremote on the printed pty and
stops cleanly on Ctrl-C (exit 0); a flash path that is a file is refused (exit 1); with --rom-kb
its ROM partition takes a ROMFS image from mpremote's own `romfs deploy`, and imports run from it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _console(proc: subprocess.Popen) -> str:
    port = None
    deadline = time.monotonic() + 30
    while port is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("console"):
            port = line.split()[1]
    assert port, "no console line"
    return port


def _mpremote(port: str, *args: str) -> str:
    r = subprocess.run(
        [str(BIN / "mpremote"), "connect", port, *args], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_emulate_serves_mpremote_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(BIN / "cubesat"), "emulate", "--flash", str(tmp_path / "flash")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        port = _console(proc)
        r = subprocess.run(
            [str(BIN / "mpremote"), "connect", port, "exec", "print(6 * 7)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0 and r.stdout.strip().endswith("42"), r.stdout + r.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=20)
    assert rc == 0


def test_emulate_refuses_a_file_as_flash(tmp_path: Path) -> None:
    f = tmp_path / "not-a-dir"
    f.write_text("x")
    r = subprocess.run(
        [str(BIN / "cubesat"), "emulate", "--flash", str(f)], capture_output=True, text=True, timeout=60
    )
    assert r.returncode != 0 and ("not-a-dir" in r.stdout + r.stderr)


def test_the_rom_partition_takes_what_mpremote_romfs_deploy_writes(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "hello.py").write_text("X = 6 * 7\n")
    proc = subprocess.Popen(
        [str(BIN / "cubesat"), "emulate", "--flash", str(tmp_path / "flash"), "--rom-kb", "64"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        port = _console(proc)
        assert "ROMFS0 partition has size 65536 bytes" in _mpremote(port, "romfs", "query")
        assert "ROMFS image deployed" in _mpremote(port, "romfs", "deploy", str(app))
        out = _mpremote(port, "soft-reset", "exec", "import hello; print(hello.X, hello.__file__)")
        assert out.split()[-2:] == ["42", "/rom/hello.mpy"], out
    finally:
        proc.send_signal(signal.SIGINT)
        rc = proc.wait(timeout=20)
    assert rc == 0
    # the partition is flash: its bytes outlive the board, beside (not inside) its filesystem
    assert (tmp_path / "flash.rom0").read_bytes()[:3] == b"\xd2\xcd\x31"
