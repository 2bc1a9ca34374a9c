"""Contact windows in the twin: with a TLE orbit and a ground station, the link carries bytes
(both ways) only while the station sees the spacecraft above its mask, as `cubesat passes` says.

The twin flies on its simulated clock from 20 s before a predicted AOS to 25 s after its LOS;
every wait is a condition with a deadline in simulated time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ground import cli
from ground.contact import ContactPipe, TleOrbit
from ground.flight_twin import FlightTwin, default_environment
from ground.passes import Station, find_passes, iso, load_tle, parse_time
from ground.terminal import Terminal
from ground.twin import TwinError, TwinServer

ISS = Path(__file__).parent / "data" / "iss.tle"
STATION = Station(48.15, 11.57, 520.0, 35.0)  # a 35 deg mask: a 89 s pass, a short test
START = parse_time("2019-12-10T00:00:00Z")


class ContactRig:
    """A twin whose orbit starts `lead_s` before the first pass after START, and a terminal."""

    def __init__(self, flash: Path, lead_s: float = 20.0) -> None:
        self.tle = load_tle(str(ISS))
        self.p = find_passes(self.tle, STATION, START, START + 86400.0)[0]
        self.t0 = self.p.aos - lead_s  # mission time 0
        env = default_environment(0.3, 0.8, TleOrbit(self.tle, self.t0), self.t0)
        self.twin = FlightTwin(flash, env, station=STATION)
        self.pipe = self.twin.link
        self.term = Terminal()
        self.ms = 0
        self.term.start(0)
        self.down_at: list[float] = []  # mission times of the ticks that brought downlink
        self.contact_at: list[float] = []  # mission times of the ticks the link was up

    @property
    def now(self) -> float:
        """Unix time of the twin's environment."""
        return self.t0 + self.twin.t

    def tick(self) -> None:
        up = self.term.uplink(self.ms)
        if up:
            self.twin.link.ground_write(up)
        if self.pipe.in_contact():
            self.contact_at.append(self.now)
        self.twin.step()
        down = self.twin.link.ground_read()
        if down:
            self.down_at.append(self.now)
            self.term.downlink(down, self.ms)
        self.ms += 100

    def until(self, cond, t_unix: float) -> bool:
        """Fly until `cond()` or the deadline (Unix time on the twin's clock)."""
        while not cond():
            if self.now >= t_unix:
                return False
            self.tick()
        return True


def test_bytes_pass_during_a_pass_and_are_lost_outside(tmp_path: Path) -> None:
    rig = ContactRig(tmp_path / "flash")
    p, pipe = rig.p, rig.pipe
    assert isinstance(pipe, ContactPipe)
    req = rig.term.command("ping")
    # before AOS: the terminal's Set V(R) and the ping go nowhere, the boot telemetry too
    assert not rig.until(lambda: rig.term.done(req), p.aos - 0.2)
    assert rig.down_at == [] and rig.contact_at == []
    assert pipe.dropped_up > 0 and pipe.dropped_down > 0
    lost_up, lost_down = pipe.dropped_up, pipe.dropped_down
    # AOS: COP-1 retransmits, the ping is verified, housekeeping comes down
    assert rig.until(lambda: rig.term.done(req), p.aos + 30.0), "no verdict 30 s after AOS"
    assert rig.term.verdict(req)[-1] == 7  # completed
    assert rig.until(lambda: False, p.los + 25.0) is False
    # the link was up exactly from AOS to LOS (to one 100 ms tick), nothing came down outside
    assert p.aos - 0.01 <= rig.contact_at[0] <= p.aos + 0.11
    assert p.los - 0.11 <= rig.contact_at[-1] <= p.los + 0.01
    assert all(p.aos - 0.01 <= t <= p.los + 0.11 for t in rig.down_at)
    assert len(rig.down_at) >= p.duration_s // 10 - 1  # HK every 10 s
    assert pipe.dropped_up == lost_up  # nothing lost in contact
    # after LOS: telemetry is lost again, and so is a command
    assert pipe.dropped_down > lost_down
    req2 = rig.term.command("ping")
    assert not rig.until(lambda: rig.term.done(req2), rig.now + 5.0)
    assert pipe.dropped_up > lost_up and not pipe.in_contact()


def test_the_twin_flies_the_tle_orbit(tmp_path: Path) -> None:
    rig = ContactRig(tmp_path / "flash", lead_s=0.0)
    r_km = rig.tle.teme_km([rig.now])[0]
    assert [c / 1000.0 for c in rig.twin.env.r_eci] == pytest.approx(list(r_km), abs=1e-6)
    assert rig.pipe.elevation_deg() == pytest.approx(STATION.mask_deg, abs=0.01)  # AOS: at the mask


def test_contact_needs_the_uart_link_and_a_tle(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uart link only"):
        FlightTwin(tmp_path / "f1", station=STATION, link="lora")
    with pytest.raises(TwinError, match="needs the orbit as a TLE"):
        TwinServer(port=0, station=STATION, flash_dir=str(tmp_path / "f2"))


def test_cubesat_twin_with_tle_and_station_says_when_the_first_contact_is(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        cli.main,
        [
            *("twin", "--insecure", "--port", "0", "--seconds", "0.3", "--speed", "1000"),
            *("--flash", str(tmp_path / "flash"), "--tle", str(ISS), "--station", "48.15,11.57,520,10"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "twin: orbit of ISS (ZARYA) (SGP4), mission time 0 = TLE epoch 2019-12-09T16:38:29.4Z" in r.output
    assert re.search(
        r"link only in contact with station 48\.1500N .*first contact now \(until T\+\d+ s\)", r.output
    )
    bad = CliRunner().invoke(cli.main, ["twin", "--insecure", "--port", "0", "--station", "48,11,0"])
    assert (
        bad.exit_code == 1
        and "Error: a ground station (contact windows) needs the orbit as a TLE" in bad.output
    )


def test_the_twin_starts_its_orbit_when_told(tmp_path: Path) -> None:
    """--start puts mission time 0 at a chosen UTC, so the twin's contacts are the ones `cubesat
    passes --start` predicts: inside a pass the link is up at once, before one it comes at AOS."""
    tle = load_tle(str(ISS))
    p = find_passes(tle, STATION, START, START + 86400.0)[0]
    server = TwinServer(
        port=0, station=STATION, tle=tle, start_unix=p.aos + 10.0, flash_dir=str(tmp_path / "f")
    )
    try:
        r_km = tle.teme_km([p.aos + 10.0])[0]
        assert [c / 1000.0 for c in server.twin.env.r_eci] == pytest.approx(list(r_km), abs=1e-6)
        assert server.twin.link.in_contact()
    finally:
        server.close()
    station = "48.15,11.57,520,35"
    base = ["twin", "--insecure", "--port", "0", "--seconds", "0.2", "--speed", "1000", "--tle", str(ISS)]
    inside = CliRunner().invoke(cli.main, [*base, "--station", station, "--start", iso(p.aos + 10.0)])
    assert inside.exit_code == 0, inside.output
    assert "mission time 0 = %s (--start)" % iso(p.aos + 10.0) in inside.output
    assert "first contact now (until T+%.0f s)" % (p.los - p.aos - 10.0) in inside.output
    before = CliRunner().invoke(cli.main, [*base, "--station", station, "--start", iso(p.aos - 100.0)])
    assert before.exit_code == 0 and "first contact at T+100 s (%s)" % iso(p.aos) in before.output
    bad = CliRunner().invoke(cli.main, [*base, "--start", "yesterday"])
    assert bad.exit_code == 2 and "--start" in bad.output and "ISO 8601" in bad.output
    alone = CliRunner().invoke(cli.main, ["twin", "--insecure", "--port", "0", "--start", "now"])
    assert alone.exit_code == 2 and "--start needs --tle" in alone.output
    with pytest.raises(TwinError, match="a start time needs the orbit as a TLE"):
        TwinServer(port=0, start_unix=START, flash_dir=str(tmp_path / "g"))
