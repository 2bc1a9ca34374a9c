"""`cubesat watch` against the twin: values with limit states, link counters, archive, exit codes."""

from __future__ import annotations

import threading

from click.testing import CliRunner

from ground import cli
from ground.archive import Archive
from ground.twin import TwinServer


def test_watch_shows_telemetry_and_archives(tmp_path) -> None:
    server = TwinServer(port=0, speed=100.0)
    th = threading.Thread(target=server.serve, daemon=True)
    th.start()
    db = tmp_path / "w.sqlite"
    try:
        r = CliRunner().invoke(
            cli.main,
            ["watch", "--link", "tcp://127.0.0.1:%d" % server.port, "--seconds", "1.5", "--archive", str(db)],
            env={"COLUMNS": "160"},
        )
    finally:
        server.stop()
        th.join(5)
        server.close()
    assert r.exit_code == 0, r.output
    assert "batt_v" in r.output and "CADUs / ASM misses / slips" in r.output
    assert "ok" in r.output  # limit state column
    times, volts = Archive(db).samples(0x2A, "batt_v", 0, 1e9)
    assert len(times) >= 3 and 6.0 < volts.min() <= volts.max() < 8.7


def test_watch_errors() -> None:
    r = CliRunner().invoke(cli.main, ["watch", "--link", "tcp://127.0.0.1:1", "--seconds", "0.1"])
    assert r.exit_code == 1 and "link" in r.output
    silent = TwinServer(port=0)
    try:
        r = CliRunner().invoke(
            cli.main, ["watch", "--link", "tcp://127.0.0.1:%d" % silent.port, "--seconds", "0.3"]
        )
        assert r.exit_code == 1 and "no telemetry" in r.output
    finally:
        silent.close()
