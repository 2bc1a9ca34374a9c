"""`cubesat mission --day`: store and forward over one station, end to end on the twin.

Out of contact every housekeeping packet goes to the flight's PUS-15 stores; at each AOS the
ground server's planner dumps what its archive lacks. The day passes only when the archive holds
every core sample the flight generated, and fails naming the missing ones otherwise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from ground import cli, mission_day
from ground.mission_day import run_day
from ground.server.store import SqliteStore

HOURS = 2.5  # Svalbard sees the default orbit at 1:58 (a low 3-minute pass) and 3:32 (mission time)


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[bool, dict, Path]:
    out = tmp_path_factory.mktemp("day")
    stats: dict = {}
    ok = run_day(hours=HOURS, out_dir=str(out), stats=stats)
    return ok, stats, out


def test_every_core_sample_of_the_day_reaches_the_archive(day: tuple[bool, dict, Path]) -> None:
    ok, s, _out = day
    assert ok, s
    assert s["passes"] == 2 and s["settled"]
    # a core sample every 10 s from onboard time 0 to the end of the day, all of them archived
    assert s["generated"] == HOURS * 360 + 1 == s["archived"] and s["missing"] == 0
    assert s["dumps"] >= 4  # housekeeping and events store, in each pass
    assert s["played_back"] > s["generated"]  # every set, not only the core one
    assert s["dropped_down"] > 0  # the link really was down between passes


def test_the_archive_holds_the_planner_commands_and_playback(day: tuple[bool, dict, Path]) -> None:
    _ok, s, out = day
    store = SqliteStore(str(out / "mission-day.sqlite"), readonly=True)
    try:
        commands = store.commands(None, 0, 1000)
        dumps = [c for c in commands if c["name"] == "store_dump"]
        assert len(dumps) == s["dumps"] and all(c["user"] == "playback" for c in dumps)
        assert all(c["status"] == "completed" for c in commands), [(c["name"], c["status"]) for c in commands]
        events = [e["name"] for e in store.events(None, 0, 10000)]
        assert events.count("PLAYBACK_DONE") >= s["dumps"] and "BOOT" in events
    finally:
        store.close()
    assert (out / "mission-day.png").stat().st_size > 20000
    log = (out / "mission-day.log").read_text()
    assert '"t_sim"' in log and "AOS 1" in log


def test_a_day_without_its_last_pass_fails_and_names_the_missing_samples(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # half an hour, and no pass allowed to come after it: nothing can have come down
    monkeypatch.setattr(mission_day, "NEXT_PASS_WITHIN_S", 600.0)
    stats: dict = {}
    assert not run_day(hours=0.5, out_dir=None, stats=stats)
    printed = capsys.readouterr().out
    assert stats["archived"] == 0 and stats["missing"] == stats["generated"] == 181
    assert "FAIL core housekeeping of the 0.5 h: 0 of 181 samples" in " ".join(printed.split())
    assert re.search(r"missing: onboard time 0\.\.1799 s \(181 samples\)", printed), printed
    assert "no pass after the day finished its dumps within 0.166667 h" in printed
    assert "Passes:" not in printed


@pytest.mark.parametrize(
    "args, message",
    [
        (["--day", "--seconds", "60"], "--seconds is for the single pass, not --day"),
        (["--hours", "2"], "--hours goes with --day"),
        (["--day", "--station", "91,0,0"], "station latitude must be -90..90, got 91.0"),
        (["--day", "--hours", "0"], "0"),
    ],
)
def test_day_options_are_checked_before_flying(args: list[str], message: str) -> None:
    r = CliRunner().invoke(cli.main, ["mission", *args])
    assert r.exit_code == 2, r.output
    assert message in r.output
