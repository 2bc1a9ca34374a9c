"""`cubesat mission --console`: the scripted pass with the ground server's web console and API up,
flown at a chosen multiple of real time, the twin flying on after it until Ctrl-C."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from ground import cli


def _lines(proc: subprocess.Popen) -> queue.Queue:
    q: queue.Queue = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            q.put(line)
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return q


def _wait_line(q: queue.Queue, pattern: str, timeout: float, seen: list[str]) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError("no line matching %r within %g s:\n%s" % (pattern, timeout, "".join(seen)))


def test_console_serves_the_pass_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "ground.cli", "mission", "--console", "--seconds", "100", "--speed", "25"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    seen: list[str] = []
    try:
        q = _lines(proc)
        m = _wait_line(q, r"console: (http://\S+)  \(log in as operator with the token (\S+)\)", 60, seen)
        url, token = m.group(1), m.group(2)
        c = httpx.Client(base_url=url, timeout=20)
        assert "script-src 'self'" in c.get("/").headers["content-security-policy"]
        login = c.post("/api/v1/session", json={"token": token})
        assert login.status_code == 200 and login.json()["role"] == "operator"
        assert [s["name"] for s in c.get("/api/v1/spacecraft").json()["spacecraft"]] == ["sat1"]
        # the procedure's ping (mission second 20, under a second of wall time at 25x) completes
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            names = {h["name"]: h["status"] for h in c.get("/api/v1/commands?since=0").json()["commands"]}
            if names.get("ping") == "completed":
                break
            time.sleep(0.2)
        assert names.get("ping") == "completed", names
        # paced: 100 simulated seconds take about 4 s, not the fraction of a second they take unpaced
        t0 = time.monotonic()
        _wait_line(q, r"PASS every command verified", 60, seen)
        assert time.monotonic() - t0 > 1.5
        _wait_line(q, r"the twin flies on for the console until Ctrl-C", 10, seen)

        def obt() -> float:
            r = c.get("/api/v1/spacecraft/sat1/parameters")
            assert r.status_code == 200, r.text
            return r.json()["parameters"]["obt_s"]["value"]

        before = obt()
        deadline = time.monotonic() + 20
        while obt() == before:
            assert time.monotonic() < deadline, "the twin stopped after the pass"
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0, "".join(seen)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_console_options_go_together() -> None:
    for args, message in (
        (["--speed", "5"], "--speed goes with --console"),
        (["--port", "8800"], "--port goes with --console"),
        (["--day", "--console"], "--console is for the single pass, not --day"),
    ):
        r = CliRunner().invoke(cli.main, ["mission", *args])
        assert r.exit_code == 2 and message in r.output, r.output
