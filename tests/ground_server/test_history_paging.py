"""History past 10000 rows: `GroundStore.page` and its cursor, the API's `after`/`next`, and
`cubesat history/events --limit N --after ID`, on an archive of 25000 commands, 25000 events and
25000 TM packets (written with executemany, not flown)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from ground import cli
from ground.server.auth import new_token
from ground.server.client import GroundClient
from ground.server.config import parse_config
from ground.server.errors import ClientError
from ground.server.server import GroundServer
from ground.server.store import SqliteStore

N = 25000
T0 = 1_764_460_800.0  # 2025-11-30T00:00Z


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("paging") / "ground.sqlite"
    SqliteStore(str(path)).close()  # its tables
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO tm_events (id, scid, t_ground, t_onboard, severity, name, args, text) "
            "VALUES (?, 42, ?, ?, 1, 'PARAM_CHANGED', '{}', ?)",
            ((i, T0 + i, float(i), "event %d" % i) for i in range(1, N + 1)),
        )
        db.executemany(
            "INSERT INTO cmd_history (id, scid, t, user, role, name, args, apid, seq, status) "
            "VALUES (?, 42, ?, 'alice', 'operator', 'ping', '{}', 16, ?, 'completed')",
            ((i, T0 + i, i & 0x3FFF) for i in range(1, N + 1)),
        )
        db.executemany(  # TM(17,2) pongs, one in ten a TM(3,25) report
            "INSERT INTO tm_packets (id, scid, t_ground, t_onboard, apid, seq, service, subtype, raw, "
            "decoded) VALUES (?, 42, ?, ?, 16, ?, ?, ?, x'00', '{}')",
            ((i, T0 + i, float(i), i & 0x3FFF, 3 if i % 10 == 0 else 17, 25 if i % 10 == 0 else 2)
             for i in range(1, N + 1)),
        )  # fmt: skip
        db.executemany(
            "INSERT INTO cmd_stages (command_id, t, stage) VALUES (?, ?, ?)",
            (
                (i, T0 + i + k * 0.01, stage)
                for i in range(1, N + 1)
                for k, stage in enumerate(("queued", "completed"))
            ),
        )
    db.close()
    return path


def _run(args: list[str], env: dict | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli.main, args, env=env or {})
    return r.exit_code, r.stdout, r.stderr


def _ids(csv_text: str) -> list[int]:
    return [int(r["id"]) for r in csv.DictReader(io.StringIO(csv_text))]


def test_the_archive_file_pages_past_10000_rows(archive: Path) -> None:
    code, out, err = _run(["events", "--archive", str(archive), "--limit", "30000", "--format", "csv"])
    assert code == 0 and _ids(out) == list(range(1, N + 1)) and "more" not in err, err
    code, out, err = _run(["history", "--archive", str(archive), "--after", "19998", "--limit", "3",
                           "--format", "csv"])  # fmt: skip
    assert code == 0 and _ids(out) == [19999, 20000, 20001] and "more: go on with --after 20001" in err
    code, out, err = _run(["events", "--archive", str(archive), "--after", "-1"])
    assert code == 2 and "--after" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def server(archive: Path) -> Iterator[tuple[str, str]]:
    token, line = new_token("viewer")
    data = {
        "server": {"port": 0, "archive": str(archive)},
        "spacecraft": [{"name": "sat1", "scid": 42, "insecure": True,
                        "link": {"type": "pty", "address": "/nonexistent/pty"}}],
        "users": [{"name": "viewer", "role": "viewer", "token_hash": line.split('"')[1]}],
    }  # fmt: skip
    gs = GroundServer(parse_config(data, archive.parent))
    try:
        yield gs.start(), token
    finally:
        gs.stop()


def test_the_api_and_the_cli_through_the_server_page_alike(server: tuple[str, str]) -> None:
    url, token = server
    gs = GroundClient(url, token)
    rows, cursor = gs.page("events", limit=5, after=9998)  # a cursor across the 10000th row
    assert [r["id"] for r in rows] == list(range(9999, 10004)) and cursor == 10003
    rows, cursor = gs.page("events", limit=10, after=N - 2)
    assert [r["id"] for r in rows] == [N - 1, N] and cursor is None
    rows, cursor = gs.page("commands", since=T0 + 24000.5, limit=10, spacecraft="sat1")
    assert [r["id"] for r in rows] == list(range(24001, 24011)) and cursor == 24010
    assert [s["stage"] for s in rows[0]["stages"]] == ["queued", "completed"]
    with pytest.raises(ClientError, match="limit must be") as err:
        gs.page("events", limit=10001)
    assert err.value.status == 400
    env = {"CUBESAT_SERVER": url, "CUBESAT_TOKEN": token}
    code, out, err = _run(["events", "--limit", str(N), "--format", "csv"], env)  # three pages
    assert code == 0 and _ids(out) == list(range(1, N + 1)) and "more" not in err, err
    code, out, err = _run(["history", "--limit", "2", "--after", "9999", "--format", "json"], env)
    got = json.loads(out)
    assert code == 0 and [r["id"] for r in got] == [10000, 10001] and "go on with --after 10001" in err
    assert got[1]["stages"][1]["stage"] == "completed" and got[1]["user"] == "alice"


def test_telemetry_pages_past_10000_packets(server: tuple[str, str]) -> None:
    url, token = server
    gs = GroundClient(url, token)
    rows, cursor = gs.telemetry_page(limit=5, after=9998)
    assert [r["id"] for r in rows] == list(range(9999, 10004)) and cursor == 10003
    rows, cursor = gs.telemetry_page(limit=10, after=N - 2)
    assert [r["id"] for r in rows] == [N - 1, N] and cursor is None
    every = gs.telemetry(limit=N + 1)  # three requests, each at most 10000 packets
    assert [r["id"] for r in every] == list(range(1, N + 1))
    hk = gs.telemetry(service=3, limit=N, after=20000)
    assert [r["id"] for r in hk] == list(range(20010, N + 1, 10)) and {r["service"] for r in hk} == {3}
    with pytest.raises(ClientError, match="after") as err:
        gs.telemetry_page(after=-1)
    assert err.value.status == 400
