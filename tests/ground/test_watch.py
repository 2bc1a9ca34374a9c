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


def test_watch_archive_keeps_every_sample_across_a_spacecraft_restart(tmp_path) -> None:
    """The twin restarts (onboard time from 0 again) between two watch sessions on one archive."""
    import time

    from ground.watch import Watcher

    db = tmp_path / "w.sqlite"
    counts = []
    for _run in range(2):
        server = TwinServer(port=0, speed=200.0, flash_dir=str(tmp_path / "flash"))
        th = threading.Thread(target=server.serve, daemon=True)
        th.start()
        arc = Archive(db)
        watcher = Watcher("tcp://127.0.0.1:%d" % server.port, archive=arc)
        try:
            got, deadline = 0, time.monotonic() + 60
            while got < 12 and time.monotonic() < deadline:
                got += watcher.poll(0.05)
        finally:
            watcher.close()
            server.stop()
            th.join(5)
            server.close()
        counts.append(len(arc.samples(0x2A, "batt_v", 0, 1e9)[0]))
        arc.close()
    arc = Archive(db, readonly=True)
    first = arc.samples(0x2A, "batt_v", 0, 1e9, epoch=0)[0]
    second = arc.samples(0x2A, "batt_v", 0, 1e9, epoch=1)[0]
    assert counts[0] >= 10 and len(first) == counts[0]  # the first boot's samples are all still there
    assert len(second) >= 10 and counts[1] == counts[0] + len(second)  # the second boot's beside them
    assert set(first) & set(second)  # at the same onboard times: keyed apart by epoch
