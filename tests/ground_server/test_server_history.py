"""`cubesat history` and `cubesat events` (through the server and on the archive file), time
ranges, CSV/JSON export; `cubesat dict params`; `--verbose` and `--log-file`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time

import httpx
import pytest
from click.testing import CliRunner
from server_harness import Ground, until

from ground import cli
from ground.server.history import TimeError, iso, parse_time


@pytest.fixture(scope="module")
def sent(ground: Ground) -> dict:
    """A completed ping, a param_set (a PARAM_CHANGED event) and a mode_set the board refuses."""
    gs = ground.client("operator")
    t0 = time.time()
    ping = gs.send("ping")
    pset = gs.send("param_set", param_id="comms.beacon_s", value=60)
    bad = gs.send("mode_set", mode="NOMINAL", wait="done")
    assert ping.ok and pset.ok and bad.status == "failed"
    until(
        lambda: any(e["name"] == "PARAM_CHANGED" for e in gs.events(since=t0)), 10, "the PARAM_CHANGED event"
    )
    return {"t0": t0, "t1": time.time(), "ids": (ping.id, pset.id, bad.id)}


def _run(args: list[str], env: dict | None = None) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli.main, args, env=env or {})
    return r.exit_code, r.stdout, r.stderr


def _viewer(ground: Ground) -> dict:
    return {"CUBESAT_SERVER": ground.url, "CUBESAT_TOKEN": ground.tokens["viewer"]}


def test_history_through_the_server_shows_users_stages_and_failures(ground: Ground, sent: dict) -> None:
    since = iso(sent["t0"])
    code, out, err = _run(["history", "--since", since], _viewer(ground))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "time", "(UTC)"] and len(lines) == 2 + 3
    ping, pset, bad = lines[2:]
    assert "ping" in ping and "operator" in ping and "completed" in ping and "accepted +" in ping
    assert "param_set param_id=comms.beacon_s value=60" in pset
    assert "failed" in bad and "WRONG_MODE" in bad and "SAFE -> NOMINAL" in bad
    code, out, err = _run(["history", "--since", since, "--format", "json"], _viewer(ground))
    rows = json.loads(out)
    assert [r["id"] for r in rows] == list(sent["ids"])
    assert rows[0]["spacecraft"] == "sat1" and rows[0]["user"] == "operator" and rows[0]["role"] == "operator"
    assert [s["stage"] for s in rows[0]["stages"]] == ["queued", "accepted", "started", "completed"]
    assert rows[0]["stages"][0]["time_utc"].endswith("Z") and rows[0]["round_trip_ms"] > 0
    assert (
        rows[2]["status"] == "failed" and rows[2]["failure_code"] == 4 and "WRONG_MODE" in rows[2]["failure"]
    )
    # a range that ends before the commands: none; one spacecraft by name
    code, out, err = _run(
        ["history", "--until", since, "--since", "-1d", "--format", "json"], _viewer(ground)
    )
    assert code == 0 and [r for r in json.loads(out) if r["id"] in sent["ids"]] == []
    code, out, _ = _run(
        ["history", "--since", since, "--spacecraft", "sat1", "--format", "json"], _viewer(ground)
    )
    assert code == 0 and len(json.loads(out)) == 3
    code, _, err = _run(["history", "--spacecraft", "sat9"], _viewer(ground))
    assert code == 1 and "unknown spacecraft 'sat9'" in err and "sat1" in err
    code, _, err = _run(["events"], {**_viewer(ground), "CUBESAT_TOKEN": "viewer.forged"})
    assert code == 1 and "token" in err and len(err.strip().splitlines()) == 1


def test_events_through_the_server_and_csv_export(ground: Ground, sent: dict, tmp_path) -> None:
    out_file = tmp_path / "events.csv"
    code, out, err = _run(
        ["events", "--since", iso(sent["t0"]), "--format", "csv", "--out", str(out_file)], _viewer(ground)
    )
    assert code == 0 and out == "" and "written to" in err
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    changed = [r for r in rows if r["event"] == "PARAM_CHANGED"]
    assert changed and changed[0]["spacecraft"] == "sat1" and changed[0]["severity_name"] in ("info", "low")
    assert "comms.beacon_s" in changed[0]["text"] and json.loads(changed[0]["args"])["param_id"] == 11
    code, out, _ = _run(["events", "--since", iso(sent["t0"])], _viewer(ground))
    assert code == 0 and "PARAM_CHANGED" in out and "severity" in out.splitlines()[0]


def test_history_and_events_read_the_archive_file_directly(ground: Ground, sent: dict, tmp_path) -> None:
    args = ["history", "--archive", str(ground.archive), "--since", iso(sent["t0"]), "--format", "csv"]
    code, out, err = _run(args)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["id"]) for r in rows] == list(sent["ids"]) and rows[0]["spacecraft"] == "42"
    assert rows[2]["status"] == "failed" and rows[2]["failure_code"] == "4"
    # with the server's config: its archive and the spacecraft names
    cfg = tmp_path / "ground.toml"
    cfg.write_text(
        '[server]\narchive = "%s"\n[[spacecraft]]\nname = "sat1"\nscid = 42\ninsecure = true\n'
        'link = { type = "tcp", address = "127.0.0.1:1" }\n' % ground.archive
    )
    code, out, err = _run(["events", "--config", str(cfg), "--spacecraft", "sat1", "--since", iso(sent["t0"]),
                           "--format", "json"])  # fmt: skip
    assert code == 0, err
    events = json.loads(out)
    assert events and {e["spacecraft"] for e in events} == {"sat1"}
    assert all(sent["t0"] <= e["t_ground"] for e in events)
    code, _, err = _run(["history", "--config", str(cfg), "--spacecraft", "sat2"])
    assert code == 1 and "unknown spacecraft 'sat2'" in err and "sat1 (scid 42)" in err
    code, _, err = _run(["history", "--archive", str(tmp_path / "none.sqlite")])
    assert code == 1 and "no archive at" in err


def test_api_history_range_checks(ground: Ground) -> None:
    auth = {"Authorization": "Bearer " + ground.tokens["viewer"]}
    r = httpx.get(ground.url + "/api/v1/commands?since=100&until=50", headers=auth)
    assert r.status_code == 400 and "until" in r.json()["message"]
    r = httpx.get(ground.url + "/api/v1/events?until=soon", headers=auth)
    assert r.status_code == 400 and "until" in r.json()["message"]
    r = httpx.get(ground.url + "/api/v1/events?spacecraft=nosuch", headers=auth)
    assert r.status_code == 404


def test_parse_time_forms() -> None:
    now = 1_800_000_000.0
    assert parse_time("-2h", now) == now - 7200 and parse_time("-30m", now) == now - 1800
    assert parse_time("-7d", now) == now - 7 * 86400 and parse_time("-1.5s", now) == now - 1.5
    assert parse_time("now", now) == now and parse_time("1764496800") == 1764496800.0
    want = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.timezone.utc).timestamp()
    assert parse_time("2026-11-30T10:00Z") == want == parse_time("2026-11-30T10:00:00")
    assert parse_time("2026-11-30T12:00+02:00") == want and parse_time("2026-11-30") == want - 36000
    for bad in ("yesterday", "2h", "-2x", "", "2026-13-01"):
        with pytest.raises(TimeError, match="not a time"):
            parse_time(bad)
    assert iso(want) == "2026-11-30T10:00:00.000Z"


def test_dict_params_lists_the_flight_dictionary(tmp_path) -> None:
    from flight.dictionary import PARAMS

    code, out, _ = _run(["dict", "params"])
    assert code == 0 and "comms.beacon_s" in out and "10..3600" in out and "Beacon period" in out
    assert len(out.splitlines()) == 2 + len(PARAMS)
    rows = json.loads(_run(["dict", "params", "--format", "json"])[1])
    assert rows[10] == {"id": 11, "name": "comms.beacon_s", "default": 60.0, "min": 10.0, "max": 3600.0,
                        "unit": "s", "description": "Beacon period when no contact"}  # fmt: skip
    code, _, _ = _run(["dict", "params", "--format", "csv", "--out", str(tmp_path / "p.csv")])
    rows = list(csv.DictReader((tmp_path / "p.csv").open()))
    assert code == 0 and len(rows) == len(PARAMS) and rows[0]["name"] == "fdir.soc_safe"


def test_verbose_and_log_file(ground: Ground, tmp_path) -> None:
    log = tmp_path / "cli.log"
    env = {"CUBESAT_TOKEN": ground.tokens["operator"]}
    code, out, err = _run(["-v", "--log-file", str(log), "send", "ping", "--server", ground.url], env)
    assert code == 0 and "completed" in out
    assert "DEBUG" in err or "INFO" in err
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    sent = [e for e in entries if e["logger"] == "cubesat.send"]
    assert sent and sent[0]["command"] == "ping" and sent[0]["record"]["user"] == "operator"
    assert ground.tokens["operator"] not in log.read_text()
    code, out, err = _run(["dict", "params"])  # no flag: nothing on stderr, the handlers are gone
    assert code == 0 and err == ""
