"""`cubesat twin` as operators start it: serves the flight software until --seconds, answers
`cubesat send`; refuses a busy port and a missing key file with an error and exit code."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_twin_serves_send_and_stops(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            str(BIN / "cubesat"),
            "twin",
            "--port",
            "0",
            "--speed",
            "20",
            "--seconds",
            "200",
            "--flash",
            str(tmp_path),
            "--insecure",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = proc.stderr.readline()
        assert "UNKEYED" in banner and "NOT authenticated" in banner  # the choice is loud
        line = proc.stderr.readline()
        m = re.search(r"tcp://127\.0\.0\.1:(\d+)", line)
        assert m, line
        r = subprocess.run(
            [str(BIN / "cubesat"), "send", "ping", "--link", "tcp://127.0.0.1:%s" % m.group(1)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0 and "ping: accepted, started, completed" in r.stdout, r.stdout + r.stderr
        assert proc.wait(timeout=60) == 0  # 200 s of mission time at 20x
    finally:
        proc.kill()
    assert (tmp_path / "boot.a").exists() or (tmp_path / "boot.b").exists()  # its flash is kept


def test_twin_refuses_a_busy_port_and_a_missing_key() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        r = subprocess.run(
            [str(BIN / "cubesat"), "twin", "--port", str(port), "--insecure"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        s.close()
    assert r.returncode == 1 and "cannot open the link" in r.stderr
    r = subprocess.run(
        [str(BIN / "cubesat"), "twin", "--key-file", "/nonexistent.hex"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "nonexistent" in r.stderr
