"""Propulsion through a unit with its own controller (the sim-modbus-prop board: Modbus RTU on the
RS-485 UART) flies the thruster commands as the GPIO valves do, and a unit that stops answering
fails the command, is one FDIR anomaly, and never stalls or crashes the flight software."""

from __future__ import annotations

import pytest
from twin_rig import Rig

import flight.main
from flight.dictionary import FAIL
from hal.drivers.thruster import SAFE
from hal.sim.board.world import SimWorld
from hal.sim.buses.bus import Fault
from hal.sim.buses.device_uart import FAULT_KEY


def _events(rig: Rig, name: str) -> list[dict]:
    return [e[2] for e in rig.term.events if e[1] == name]


def _armed(rig: Rig) -> Rig:
    assert rig.send("thruster_arm") == [1, 3, 7]
    token = _events(rig, "ARM_PENDING")[-1]["token"]
    assert rig.send("thruster_arm_confirm", {"token": token}) == [1, 3, 7]
    return rig


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path / "flash", board="sim-modbus-prop")
    r.nominal()
    return r


def test_a_pulse_through_the_unit_moves_the_spacecraft_as_the_gpio_valve_does(tmp_path) -> None:
    results = {}
    for board in ("sim-twin", "sim-modbus-prop"):
        rig = Rig(tmp_path / board, board=board)
        rig.nominal()
        results[board] = _armed(rig)
    for board, rig in results.items():
        assert rig.send("thruster_fire", {"thruster": 1, "duration_ms": 50}) == [1, 3, 7], board
        rig.run(2)
    gpio, unit = results["sim-twin"], results["sim-modbus-prop"]
    g_valves = gpio.twin.world.board.thrusters.valves
    u_valves = unit.twin.world.board.thrusters.valves
    assert [v.pulses for v in u_valves] == [v.pulses for v in g_valves] == [0, 1, 0, 0]
    # the flight closes both at its next fast tick; the line adds its few milliseconds
    assert g_valves[1].total_open_us == 100000
    assert 100000 <= u_valves[1].total_open_us <= 105000
    assert unit.twin.env.body.omega == gpio.twin.env.body.omega
    assert _events(unit, "THRUSTER_FIRED") == _events(gpio, "THRUSTER_FIRED")
    assert unit.twin.world.prop_unit.exceptions == 0 and unit.app.propulsion.unit_errors == 0
    assert unit.app.executive.errors() == 0


def test_a_silent_unit_fails_the_command_once_and_fdir_inhibits_propulsion(rig) -> None:
    _armed(rig)
    rig.twin.world.board.faults.inject(FAULT_KEY, Fault(Fault.DROP))
    req = rig.term.command("thruster_fire", {"thruster": 2, "duration_ms": 50})
    assert rig.until(lambda: rig.term.done(req), 30)
    assert rig.term.verdict(req) == [1, 3, 8]
    code, text = rig.term.failures[req]
    assert code == FAIL["EXEC_FAILED"] and text.startswith("modbus unit 1: response (0 of 8 bytes)")
    rig.run(3)
    assert _events(rig, "THRUSTER_ANOMALY") == [{"thruster": 0, "kind": 2}]  # once, not per tick
    p = rig.app.propulsion
    assert p.inhibited and all(v.state == SAFE for v in p.valves) and p.unit_errors >= 1
    assert rig.twin.world.prop_unit.valves[2].pulses == 0  # the open never reached the unit
    assert rig.code("thruster_arm") == FAIL["INTERLOCK"]  # FDIR's inhibit
    assert rig.app.executive.errors() == 0
    # the unit answers again: lifting the inhibit and arming again fly as before
    rig.twin.world.board.faults.clear()
    assert rig.send("fdir_reset") == [1, 3, 7]
    _armed(rig)
    assert not p.unit_down
    assert rig.send("thruster_fire", {"thruster": 2, "duration_ms": 50}) == [1, 3, 7]
    rig.run(1)
    assert rig.twin.world.prop_unit.valves[2].pulses == 1


def test_a_close_that_never_arrives_is_ended_by_the_units_own_limit(rig) -> None:
    _armed(rig)
    unit = rig.twin.world.prop_unit
    req = rig.term.command("thruster_fire", {"thruster": 0, "duration_ms": 50})
    for _ in range(300):  # tick by tick (30 s at most) until the valve is open
        rig.run(0.1)
        if unit.valves[0].is_open:
            break
    assert unit.valves[0].is_open
    rig.twin.world.board.faults.inject(FAULT_KEY, Fault(Fault.DROP))  # before the flight closes it
    rig.run(3)
    assert rig.term.verdict(req) == [1, 3, 7]  # the valve opened as commanded
    assert not unit.valves[0].is_open and unit.safety_closes == 1
    assert 1000000 <= unit.valves[0].total_open_us <= 1100000  # the unit's 1000 ms limit
    assert _events(rig, "THRUSTER_ANOMALY") == [{"thruster": 0, "kind": 2}]
    assert rig.app.propulsion.inhibited and not rig.app.propulsion.armed()
    assert rig.app.executive.errors() == 0


def test_a_unit_silent_at_boot_leaves_the_valves_safe_and_the_flight_running(tmp_path) -> None:
    world = SimWorld(board="sim-modbus-prop")
    world.board.faults.inject(FAULT_KEY, Fault(Fault.DROP))
    _system, app = flight.main.boot(flash=str(tmp_path), system=world)
    assert app.propulsion is not None and all(v.state == SAFE for v in app.propulsion.valves)
    for _ in range(50):  # 5 s of ticks: the fast group polls SAFE valves, which ask the unit nothing
        app.step()
        world.advance(100)
    assert app.executive.errors() == 0 and world.prop_unit.frames == 0
