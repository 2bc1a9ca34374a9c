"""The SQLite archive: ingest, queries by parameter and time, command history, export, persistence."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ground.archive import Archive, export_csv, export_json


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
            "EXPLAIN QUERY PLAN SELECT times, vals FROM segments WHERE scid=1 AND param=1 AND t_start<1 "
            "AND t_end>=0 ORDER BY t_start"
        )
    )
    assert "PRIMARY KEY" in plan and "SCAN" not in plan  # a range search of the clustered key


def test_a_re_received_sample_does_not_duplicate() -> None:
    arc = Archive()
    arc.ingest_samples(1, [("v", 5.0, 1.0), ("v", 6.0, 2.0)])
    arc.ingest_samples(1, [("v", 5.5, 1.5), ("v", 6.0, 2.0)])  # overlaps; 6.0 was received twice
    times, values = arc.samples(1, "v", 0, 10)
    assert list(times) == [5.0, 5.5, 6.0] and list(values) == [1.0, 1.5, 2.0]
