"""The `cubesat` CLI: help, version and the mission main job, with exit codes."""

from __future__ import annotations

import random

from click.testing import CliRunner

from ground import cli, mission


def test_help_lists_mission() -> None:
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0
    assert "mission" in result.output


def test_mission_runs_and_reports_everything_verified(tmp_path) -> None:
    result = CliRunner().invoke(
        cli.main,
        ["mission", "--seconds", "900", "--ber", "2e-4", "--interleave", "2", "--out", str(tmp_path)],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "PASS every command verified (7 of 7 completed)" in result.output
    assert "housekeeping set 1: 91 reports received of 91 generated onboard" in result.output
    assert "released from the schedule" in result.output and "accepted, started, completed" in result.output
    assert "MODE_CHANGE from=SAFE to=DETUMBLE reason=command" in result.output  # the commanded mode change
    from ground.archive import Archive

    arc = Archive(tmp_path / "mission.sqlite")
    t, rate = arc.samples(0x2A, "rate_dps", 0, 1e9)
    assert len(t) >= 89 and rate[0] > 4.5 and rate[-1] < rate[0]  # detumbling
    # the archive is a ground-server archive: its command history, with the time-tagged command
    # released by the schedule as a command of its own
    from ground.server.store import SqliteStore

    history = SqliteStore(str(tmp_path / "mission.sqlite"), readonly=True)
    commands = history.commands(0x2A, 0, 100)
    history.close()
    assert [c["status"] for c in commands] == ["completed"] * 7
    assert [c["user"] for c in commands] == ["mission"] * 7
    assert (
        commands[5]["name"] == "hk_oneshot" and "carried by command #5" in commands[5]["stages"][0]["detail"]
    )
    assert (tmp_path / "mission.png").stat().st_size > 20000


def test_mission_fails_when_the_channel_is_hopeless(tmp_path) -> None:
    result = CliRunner().invoke(
        cli.main, ["mission", "--seconds", "120", "--ber", "0.05", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "FAIL" in result.output


def test_mission_rejects_bad_interleave() -> None:
    result = CliRunner().invoke(cli.main, ["mission", "--interleave", "6"])
    assert result.exit_code == 2
    assert "6" in result.output


def test_channel_flips_the_requested_fraction_of_bits() -> None:
    rnd = random.Random(3)
    data = bytes(100_000)
    flipped = mission.flip_bits(data, 1e-3, rnd)
    ones = sum(bin(b).count("1") for b in flipped)
    assert 700 < ones < 900  # 800 expected for 800,000 bits
    assert mission.flip_bits(data, 0.0, rnd) == data
