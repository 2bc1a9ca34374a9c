"""Through the ground server, at 10x: `send thruster_arm --confirm` arms (the server hands
thruster_arm its ARM_PENDING event as the reply, the confirm follows at once), and a confirm
after the window shows the board's reason in the CLI, the API record and the history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from server_harness import Ground, running_ground, until

from ground import cli


@pytest.fixture(scope="module")
def ground10(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ground]:
    with running_ground(Path(tmp_path_factory.mktemp("ground10")), twin_speed=10.0) as g:
        until(lambda: g.twin.app.modes.mode == 1, 15, "BOOT -> SAFE")
        assert g.client().send("mode_set", {"mode": "DETUMBLE"}, wait="done").ok
        yield g


def test_arm_with_confirm_through_the_server(ground10: Ground) -> None:
    env = {"CUBESAT_TOKEN": ground10.tokens["operator"], "CUBESAT_SERVER": ground10.url}
    r = CliRunner().invoke(cli.main, ["send", "thruster_arm", "--confirm"], env=env)
    assert r.exit_code == 0, r.output
    assert "ARM_PENDING token" in r.output and "thrusters armed" in r.output
    assert ground10.twin.app.propulsion.armed()
    assert ground10.client().send("thruster_disarm", confirm=True, wait="done").ok


def test_an_expired_arm_shows_the_board_s_reason(ground10: Ground) -> None:
    gs = ground10.client()
    arm = gs.send("thruster_arm", confirm=True, wait="done")
    assert arm.ok and arm.reply["event"] == "ARM_PENDING"  # the token came back as the reply
    valve = ground10.twin.app.propulsion.valves[0]
    until(lambda: valve.state == 0, 15, "the 10 s window to lapse (1 s at 10x)")
    env = {"CUBESAT_TOKEN": ground10.tokens["operator"], "CUBESAT_SERVER": ground10.url}
    token = "token=%d" % arm.reply["args"]["token"]
    r = CliRunner().invoke(cli.main, ["send", "thruster_arm_confirm", token, "--confirm"], env=env)
    assert r.exit_code == 3 and "INTERLOCK (arm request expired)" in r.output, r.output
    row = gs.history(limit=10000)[-1]  # the archive keeps the reason with the failure
    assert row["name"] == "thruster_arm_confirm" and "INTERLOCK (arm request expired)" in row["failure"]
    failure = gs.command(int(row["id"])).failure  # and the API gives it as data
    assert failure["reason_name"] == "ARM_EXPIRED" and failure["reason_text"] == "arm request expired"
