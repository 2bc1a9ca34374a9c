"""SqliteStore writes behind (a queue, one writer thread, batched commits): ids at once, reads see
every earlier write, close writes the rest, a reopened archive goes on with the next ids, and a
read-only open never writes."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from ground.server.errors import ConfigError
from ground.server.store import SqliteStore


def test_ids_at_once_reads_see_earlier_writes(tmp_path) -> None:
    store = SqliteStore(str(tmp_path / "g.sqlite"), batch_s=0.05)
    try:
        ids = [store.add_command(42, "ops", "operator", "ping", {}, 16, i) for i in range(3)]
        assert ids == [1, 2, 3]
        store.add_stage(ids[0], "queued")
        store.add_stage(ids[0], "completed", 7, status="completed")
        pid = store.add_packet(42, 100.0, 5.0, (16, 1, 17, 2), b"\x01\x02", {"type": "TM(17,2)"})
        store.set_reply(ids[0], pid)
        store.add_event(42, 101.0, 6.0, 2, "PARAM_CHANGED", {"param_id": 11}, "changed", pid)
        store.add_samples(42, 5.0, {"batt_v": 7.5, "soc": 0.8})
        rows = store.commands(None, 0, 10)  # waits for the writes queued before it
        assert [r["id"] for r in rows] == ids and rows[0]["status"] == "completed"
        assert rows[0]["reply_packet"] == pid and [s["stage"] for s in rows[0]["stages"]] == [
            "queued",
            "completed",
        ]
        assert store.events(42, 0, 10)[0]["args"] == {"param_id": 11}
        assert store.events(42, 0, 10, until=101.0) == [] and store.spacecraft_ids() == [42]
        stats = store.stats()
        # commands 3, stages 2 + the status update, packet, reply, event, 2 samples
        assert stats["queued"] == 0 and stats["rows_written"] == 3 + 3 + 1 + 1 + 1 + 2
        assert stats["batches"] < stats["rows_written"]  # batched, not one commit per row
    finally:
        store.close()
        store.close()  # idempotent


def test_close_writes_the_rest_and_a_reopen_goes_on(tmp_path) -> None:
    path = str(tmp_path / "g.sqlite")
    store = SqliteStore(path, batch_s=10.0)  # nothing is committed before close
    threads = [
        threading.Thread(target=lambda: [store.add_event(7, 1.0, None, 1, "E", {}, "", 0) for _ in range(50)])
        for _ in range(4)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    store.close()
    with pytest.raises(ConfigError, match="closed"):
        store.add_event(7, 1.0, None, 1, "E", {}, "", 0)
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT COUNT(*), COUNT(DISTINCT id), MAX(id) FROM tm_events").fetchone() == (
            200,
            200,
            200,
        )
    finally:
        db.close()
    again = SqliteStore(path)
    try:
        assert again.add_event(7, 2.0, None, 1, "E", {}, "", 0) == 201
    finally:
        again.close()
    ro = SqliteStore(path, readonly=True)
    try:
        assert len(ro.events(7, 0, 1000)) == 201 and ro.stats()["rows_written"] == 0
    finally:
        ro.close()
