"""`cubesat emulate`: the emulated board from the CLI answers mpremote on the printed pty and
stops cleanly on Ctrl-C (exit 0); a flash path that is a file is refused (exit 1)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def test_emulate_serves_mpremote_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [str(BIN / "cubesat"), "emulate", "--flash", str(tmp_path / "flash")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("console"):
                port = line.split()[1]
        assert port, "no console line"
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
