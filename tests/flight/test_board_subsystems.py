"""A board builds only the subsystems its definition has chips for: without thrusters there is no
propulsion (its modules are never loaded: heap on a board), and a thruster command says why."""

from __future__ import annotations

from pathlib import Path

import flight.main
from flight.dictionary import FAIL, FAIL_REASONS
from ground.terminal import Terminal
from hal.boards import definition
from hal.sim.board.world import SimWorld


def test_a_board_without_thrusters_has_no_propulsion_and_says_so(tmp_path: Path) -> None:
    assert not definition("rp2040-flight").get("thrusters")
    world = SimWorld(board="rp2040-flight")
    _system, app = flight.main.boot(flash=str(tmp_path), system=world)
    assert app.propulsion is None
    assert "thrusters" not in [t.name for t in app.executive.tasks]

    term = Terminal()
    term.start(0)
    reqs = [term.command("thruster_arm"), term.command("thruster_disarm")]
    for tick in range(300):  # a deadline of 30 simulated s
        up = term.uplink(tick * 100)
        if up:
            world.link.ground_write(up)
        app.step()
        world.advance(100)
        down = world.link.ground_read()
        if down:
            term.downlink(down, tick * 100)
        if all(term.done(r) for r in reqs):
            break
    for req, name in zip(reqs, ("thruster_arm", "thruster_disarm")):
        # accepted, refused at start: no component on this board runs it
        assert term.verdict(req) == [1, 4]
        assert term.failures[req] == (FAIL["EXEC_FAILED"], name + ": not on this board")
        assert FAIL_REASONS[term.reasons[req]][0] == "NOT_ON_BOARD"
    assert app.executive.errors() == 0
