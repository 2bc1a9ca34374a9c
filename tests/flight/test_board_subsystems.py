"""A board builds only the subsystems its definition has chips for: without thrusters there is no
propulsion (its modules are never loaded: heap on a board), and a thruster command says why."""

from __future__ import annotations

from pathlib import Path

import flight.main
from flight.dictionary import FAIL
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
    for req in reqs:
        assert term.verdict(req) == [1, 4]  # accepted, refused at start
        assert term.failures[req] == (FAIL["EXEC_FAILED"], "no thrusters on this board")
    assert app.executive.errors() == 0
