"""The SQLite archive: ingest, queries by parameter and time, command history, export, persistence."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from ground.archive import Archive, ArchiveError, export_csv, export_json


def test_samples_round_trip_and_time_window(tmp_path: Path) -> None:
    arc = Archive(tmp_path / "a.sqlite")
    arc.ingest_samples(42, [("battery_v", float(t), 7.0 + t / 1000) for t in range(0, 1000, 10)])
    arc.ingest_samples(42, [("temp_c", float(t), 20.0) for t in range(0, 1000, 10)])
    arc.ingest_samples(7, [("battery_v", 5.0, 1.0)])  # another spacecraft: never mixed in
    times, values = arc.samples(42, "battery_v", 100.0, 200.0)
    assert list(times) == [float(t) for t in range(100, 200, 10)]
    assert values[0] == 7.1
    assert [list(a) for a in arc.samples(7, "battery_v", 0, 10)] == [[5.0], [1.0]]
    assert len(arc.samples(42, "nope", 0, 10)[0]) == 0
    assert arc.parameters() == ["battery_v", "temp_c"]
    arc.close()
    again = Archive(tmp_path / "a.sqlite")  # survives a restart
    assert len(again.samples(42, "battery_v", 0, 1e9)[0]) == 100


def test_packets_and_command_history() -> None:
    arc = Archive()
    arc.ingest_packets(42, [(1.0, 0x10, 3, 25, 0, b"\x08\x10"), (2.0, 0x10, 17, 2, 1, b"\x08\x10")])
    assert arc.packet_count(42) == 2 and arc.packet_count(7) == 0
    arc.log_command(42, "ping", {}, 0x10, 5, t=10.0)
    assert arc.update_command(42, 0x10, 5, "accepted") == 1
    assert arc.update_command(42, 0x10, 5, "failed", 3) == 1
    assert arc.update_command(42, 0x10, 6, "accepted") == 0  # unknown request id
    assert arc.commands(42) == [("ping", "{}", 0x10, 5, "failed", 3)]
    arc.log_event(42, 3.0, 2, "MODE_CHANGE", {"to": "SAFE"})
    assert arc.events(42)[0][2] == "MODE_CHANGE"


def test_exports() -> None:
    times, values = [1.0, 2.0], [7.5, 7.25]
    parsed = list(csv.reader(io.StringIO(export_csv(times, values, "battery_v"))))
    assert parsed == [["t", "battery_v"], ["1.0", "7.5"], ["2.0", "7.25"]]
    assert json.loads(export_json(times, values, "battery_v"))["samples"][1] == {"t": 2.0, "value": 7.25}


def test_one_parameter_query_is_a_key_range_search() -> None:
    arc = Archive()
    plan = " ".join(
        str(r)
        for r in arc.db.execute(
            "EXPLAIN QUERY PLAN SELECT epoch, times, vals FROM segments WHERE scid=1 AND param=1 "
            "AND t_start<1 AND t_end>=0 ORDER BY epoch, t_start"
        )
    )
    assert "PRIMARY KEY" in plan and "SCAN" not in plan  # a range search of the clustered key


def test_a_spacecraft_reset_never_overwrites_earlier_samples() -> None:
    """Onboard time restarts at 0 after a reset: the new boot's samples go to a new epoch."""
    arc = Archive()
    for boot in range(2):
        for k in range(121):
            t = 10.0 * k
            arc.ingest_samples(42, [("soc", t, boot + k / 1000)], arc.next_epoch(42, t))
    assert arc.epochs(42) == [0, 1]
    times, values = arc.samples(42, "soc", 0, 1e12)
    assert len(times) == 242 and values[0] == 0.0 and values[121] == 1.0  # 242 of 242 kept
    assert arc.samples(42, "soc", 0, 1e12, epoch=1)[1][-1] == 1.12
    # a re-received report of the newest boot stays in its epoch and is not duplicated
    arc.ingest_samples(42, [("soc", 1200.0, 1.12)], arc.next_epoch(42, 1300.0))
    assert len(arc.samples(42, "soc", 0, 1e12)[0]) == 242


def test_a_re_received_sample_does_not_duplicate() -> None:
    arc = Archive()
    arc.ingest_samples(1, [("v", 5.0, 1.0), ("v", 6.0, 2.0)])
    arc.ingest_samples(1, [("v", 5.5, 1.5), ("v", 6.0, 2.0)])  # overlaps; 6.0 was received twice
    times, values = arc.samples(1, "v", 0, 10)
    assert list(times) == [5.0, 5.5, 6.0] and list(values) == [1.0, 1.5, 2.0]


def _other_programs_db(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    con.execute("INSERT INTO contacts VALUES ('ada', '123')")
    con.commit()
    con.close()


def test_reading_never_changes_a_file_that_is_not_an_archive(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database, just some text\n" * 40)
    other = tmp_path / "contacts.db"
    _other_programs_db(other)
    cases = {empty: "is empty", text: "is not an SQLite database", other: "another program's database"}
    for path, why in cases.items():
        before = sorted(p.name for p in tmp_path.iterdir()), path.read_bytes()
        with pytest.raises(ArchiveError, match="not a cubesat archive: .*%s" % why):
            Archive(path, readonly=True)
        # no tables, no WAL switch, no -wal/-shm files beside it
        assert (sorted(p.name for p in tmp_path.iterdir()), path.read_bytes()) == before
    with pytest.raises(ArchiveError, match="no archive at"):
        Archive(tmp_path / "missing.sqlite", readonly=True)
    assert not (tmp_path / "missing.sqlite").exists()
    with pytest.raises(ArchiveError, match="is a folder"):
        Archive(tmp_path, readonly=True)


def test_a_writer_refuses_another_programs_database_and_a_text_file(tmp_path: Path) -> None:
    other = tmp_path / "contacts.db"
    _other_programs_db(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 100)
    for path in (other, text):
        before = path.read_bytes()
        with pytest.raises(ArchiveError, match="not a cubesat archive"):
            Archive(path)
        assert path.read_bytes() == before
    with pytest.raises(ArchiveError, match="cannot open archive"):
        Archive(tmp_path / "no" / "such" / "folder.sqlite")


def test_a_read_only_archive_reads_what_a_live_writer_wrote(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite"
    writer = Archive(path)
    writer.ingest_samples(42, [("soc", 1.0, 0.5)])
    reader = Archive(path, readonly=True)
    assert reader.parameters() == ["soc"]
    writer.ingest_samples(42, [("soc", 2.0, 0.6)])
    assert list(reader.samples(42, "soc", 0, 10)[1]) == [0.5, 0.6]  # WAL: reads while the link writes
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.ingest_samples(42, [("soc", 3.0, 0.7)])
    writer.close()
    reader.close()
    again = Archive(path, readonly=True)  # a closed WAL archive opens read-only too
    assert list(again.samples(42, "soc", 0, 10)[0]) == [1.0, 2.0]
    again.close()
