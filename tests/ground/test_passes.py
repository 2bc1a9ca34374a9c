"""`ground/passes.py` and `cubesat passes` against skyfield, the independent reference.

The same TLE (the ISS TLE of the sgp4 documentation, tests/ground/data/iss.tle) and stations,
from a fixed start over 7 days: the same passes, AOS and LOS within 2 s, maximum elevation
within 0.1 deg. skyfield runs on its built-in timescale: it downloads nothing.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from ground import cli
from ground.passes import (
    PassError,
    Station,
    StationError,
    Tle,
    TleError,
    find_passes,
    iso,
    load_tle,
    parse_time,
    sat_elevation_deg,
)

DATA = Path(__file__).parent / "data"
ISS = DATA / "iss.tle"
START = datetime(2019, 12, 9, 18, 0, tzinfo=timezone.utc).timestamp()  # 1.4 h after the TLE epoch
WEEK = 7 * 86400.0
STATIONS = [
    Station(48.15, 11.57, 520.0, 10.0),  # mid-latitude, a 10 deg mask
    Station(-33.9, 18.4, 0.0, 0.0),  # southern hemisphere, the horizon
    Station(64.8, -147.7, 200.0, 0.0),  # near the orbit's northern edge: low, long, grazing passes
    Station(0.0, 0.0, 0.0, 30.0),  # on the equator, a high mask: few, short passes
]
AOS_LOS_TOL_S = 2.0
MAX_EL_TOL_DEG = 0.1


@pytest.fixture(scope="module")
def tle() -> Tle:
    return load_tle(str(ISS))


def _skyfield_passes(tle: Tle, station: Station, t0: float, t1: float) -> list[tuple[float, float, float]]:
    """(AOS, LOS, max elevation) of every complete pass skyfield finds in [t0, t1]."""
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    sat = EarthSatellite(tle.line1, tle.line2, tle.name, ts)
    where = wgs84.latlon(station.lat_deg, station.lon_deg, elevation_m=station.alt_m)
    times, events = sat.find_events(
        where,
        ts.from_datetime(datetime.fromtimestamp(t0, timezone.utc)),
        ts.from_datetime(datetime.fromtimestamp(t1, timezone.utc)),
        altitude_degrees=station.mask_deg,
    )
    topo = sat - where
    out, rise, top = [], None, -90.0
    for t, event in zip(times, events):
        unix = t.utc_datetime().timestamp()
        if event == 0:
            rise, top = unix, -90.0
        elif event == 1 and rise is not None:
            top = max(top, topo.at(t).altaz()[0].degrees)
        elif event == 2 and rise is not None:
            out.append((rise, unix, top))
            rise = None
    return out


@pytest.mark.parametrize("station", STATIONS, ids=str)
def test_passes_agree_with_skyfield_over_a_week(tle: Tle, station: Station) -> None:
    ours = [
        p for p in find_passes(tle, station, START, START + WEEK) if p.aos >= START and p.los <= START + WEEK
    ]
    ref = _skyfield_passes(tle, station, START, START + WEEK)
    assert len(ref) >= 5, "a week should hold passes over %s" % station
    assert len(ours) == len(ref), "passes over %s: ours %s, skyfield's %s" % (
        station,
        [iso(p.aos) for p in ours],
        [iso(r[0]) for r in ref],
    )
    d_aos = max(abs(p.aos - r[0]) for p, r in zip(ours, ref))
    d_los = max(abs(p.los - r[1]) for p, r in zip(ours, ref))
    d_el = max(abs(p.max_elevation_deg - r[2]) for p, r in zip(ours, ref))
    print(
        "%s: %d passes, max |dAOS| %.3f s, |dLOS| %.3f s, |dEl| %.4f deg"
        % (station, len(ours), d_aos, d_los, d_el)
    )
    assert d_aos < AOS_LOS_TOL_S and d_los < AOS_LOS_TOL_S
    assert d_el < MAX_EL_TOL_DEG
    for p in ours:  # the pass is above the mask inside, below it just outside, peaking at max_time
        el = sat_elevation_deg(
            tle, station, [p.aos - 0.05, p.aos + 0.05, p.max_time, p.los - 0.05, p.los + 0.05]
        )
        assert el[0] < station.mask_deg <= el[1] and el[3] >= station.mask_deg > el[4]
        assert el[2] == pytest.approx(p.max_elevation_deg, abs=1e-6)


def test_a_grazing_pass_shorter_than_the_grid_step_is_found(tle: Tle) -> None:
    base = STATIONS[0]
    best = max(find_passes(tle, base, START, START + 86400.0), key=lambda p: p.max_elevation_deg)
    # a mask 0.002 deg under the top: a few seconds above it, less than the 10 s grid step
    station = Station(base.lat_deg, base.lon_deg, base.alt_m, best.max_elevation_deg - 0.002)
    found = [
        p for p in find_passes(tle, station, START, START + 86400.0) if abs(p.max_time - best.max_time) < 60
    ]
    assert len(found) == 1
    assert 0 < found[0].duration_s < 10.0
    assert found[0].aos < best.max_time < found[0].los


def test_a_pass_in_progress_at_the_start_keeps_its_real_aos(tle: Tle) -> None:
    station = STATIONS[0]
    whole = find_passes(tle, station, START, START + 86400.0)[0]
    mid = 0.5 * (whole.aos + whole.los)
    first = find_passes(tle, station, mid, mid + 3600.0)[0]
    assert first.aos == pytest.approx(whole.aos, abs=0.02) and first.los == pytest.approx(whole.los, abs=0.02)
    assert not first.aos_clipped and not first.los_clipped


# ------------------------------------------------------------------------------------------
# bad input: a specific exception that says what and where
# ------------------------------------------------------------------------------------------
LINE1, LINE2 = ISS.read_text().splitlines()[1:3]


@pytest.mark.parametrize(
    "text, message",
    [
        (LINE1[:-1] + "2\n" + LINE2, r"line 1: bad checksum \(expected 1, got '2'\)"),
        (LINE1 + "\n" + LINE2[:-1] + "3", r"line 2: bad checksum"),
        (LINE1[:40] + "\n" + LINE2, r"line 1 must be 69 characters, got 40"),
        (LINE1 + "\n" + LINE2.replace("15.50103472", "15.5x103472"), r"line 2 columns 53-63 \(mean motion\)"),
        (LINE1.replace("19343.69339541", "19343,69339541") + "\n" + LINE2, r"columns 19-32 \(epoch\)"),
        (LINE2 + "\n" + LINE1, r"line 1 must start with '1 '"),
        (LINE1 + "\n" + "2 25545" + LINE2[7:-1] + "3", r"different satellites \(25544, 25545\)"),
        ("ISS\n%s\n%s\nISS\n%s\n%s" % (LINE1, LINE2, LINE1, LINE2), r"more than one TLE"),
        ("just a line", r"must hold one TLE"),
        ("", r"got 0 lines"),
    ],
)
def test_a_malformed_tle_is_refused_with_where(text: str, message: str) -> None:
    with pytest.raises(TleError, match=message):
        Tle.parse(text, "sat.tle")


def test_a_tle_parses_with_or_without_a_name() -> None:
    named = Tle.parse("0 ISS (ZARYA)\r\n%s\r\n%s\r\n\r\n" % (LINE1, LINE2))
    bare = Tle.parse("%s\n%s" % (LINE1, LINE2))
    assert named.name == "ISS (ZARYA)" and bare.name == "NORAD 25544"
    assert iso(named.epoch_unix) == "2019-12-09T16:38:29.4Z"
    assert named.period_s == pytest.approx(5573.8, abs=0.1)


def test_a_missing_tle_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(TleError, match=r"cannot read TLE file .*nope\.tle: No such file"):
        load_tle(str(tmp_path / "nope.tle"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("91,0,0", r"latitude must be -90\.\.90, got 91"),
        ("nan,0,0", r"latitude must be -90\.\.90, got nan"),
        ("0,400,0", r"longitude"),
        ("0,0,0,90", r"elevation mask must be -5\.\.89"),
        ("0,0,1e9", r"altitude"),
        ("a,0,0", r"latitude is not a number: 'a'"),
        ("1,2", r"lat,lon,alt_m\[,mask_deg\]"),
    ],
)
def test_a_bad_station_is_refused(text: str, message: str) -> None:
    with pytest.raises(StationError, match=message):
        Station.parse(text)


def test_bad_spans_and_times(tle: Tle) -> None:
    with pytest.raises(PassError, match="end after it starts"):
        find_passes(tle, STATIONS[0], START, START)
    with pytest.raises(PassError, match="end after it starts"):
        find_passes(tle, STATIONS[0], START, math.inf)
    with pytest.raises(PassError, match="ISO 8601"):
        parse_time("yesterday")
    assert parse_time("2019-12-09T18:00:00Z") == START == parse_time("2019-12-09T18:00:00")
    assert parse_time("epoch", tle) == tle.epoch_unix


def test_sgp4_failure_is_a_pass_error(tle: Tle) -> None:
    # 40 years on, the drag term has brought the ISS down: SGP4 refuses, and says when
    with pytest.raises(PassError, match=r"SGP4 cannot propagate ISS \(ZARYA\) to 2059-"):
        tle.teme_km(np.array([tle.epoch_unix + 40 * 365 * 86400.0]))


# ------------------------------------------------------------------------------------------
# the command
# ------------------------------------------------------------------------------------------
def _passes(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(
        cli.main,
        ["passes", "--tle", str(ISS), "--station", "48.15,11.57,520,10", *args],
        catch_exceptions=False,
    )


def test_cli_table_and_json_agree(tle: Tle) -> None:
    table = _passes("--start", "2019-12-10T00:00:00Z", "--days", "1")
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("ISS (ZARYA) over 48.1500N 11.5700E 520 m, mask 10 deg: 5 passes")
    assert lines[1].split()[:3] == ["AOS", "(UTC)", "LOS"]
    assert lines[2].startswith("2019-12-10T10:59:10.0Z  2019-12-10T11:05:29.5Z    6:19.5    41.35")
    doc = json.loads(_passes("--start", "2019-12-10T00:00:00Z", "--days", "1", "--json").output)
    assert doc["satellite"] == "ISS (ZARYA)" and doc["station"]["mask_deg"] == 10.0
    assert [p["aos"] for p in doc["passes"]] == [ln.split()[0] for ln in lines[2:]]
    first = find_passes(
        tle, STATIONS[0], parse_time("2019-12-10T00:00:00Z"), parse_time("2019-12-11T00:00:00Z")
    )[0]
    assert doc["passes"][0]["aos_unix"] == pytest.approx(first.aos, abs=1e-3)


def test_cli_notes_an_old_tle() -> None:
    r = CliRunner().invoke(
        cli.main,
        [
            "passes",
            "--tle",
            str(ISS),
            "--station",
            "0,0,0",
            "--start",
            "2020-06-01T00:00:00Z",
            "--days",
            "0.1",
        ],
    )
    assert r.exit_code == 0 and "note: the span starts 174 days after the TLE's epoch" in r.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tle", "{tmp}/nope.tle", "--station", "0,0,0"], r"--tle.*cannot read TLE file .*nope\.tle"),
        (["--tle", "{tmp}/bad.tle", "--station", "0,0,0"], r"--tle.*bad\.tle line 1: bad checksum"),
        (["--tle", str(ISS), "--station", "95,0,0"], r"--station.*latitude must be -90\.\.90, got 95"),
        (["--tle", str(ISS), "--station", "0,0,0", "--start", "soon"], r"--start.*ISO 8601"),
        (["--tle", str(ISS), "--station", "0,0,0", "--days", "nan"], r"--days"),
    ],
)
def test_cli_bad_input_is_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.tle").write_text("%s\n%s\n" % (LINE1[:-1] + "2", LINE2))
    r = CliRunner().invoke(cli.main, ["passes", *(a.format(tmp=tmp_path) for a in args)])
    assert r.exit_code == 2, r.output
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error")]
    assert len(errors) == 1 and re.search(message, errors[0]), r.output
    assert "Traceback" not in r.output
