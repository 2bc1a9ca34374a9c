"""Each FDIR rule trips on its symptom in the twin, acts, and reports an event; the watchdog
resets a hung executive and the software boots again from persisted state."""

from __future__ import annotations

import math

import pytest
from twin_rig import Rig

from flight.boot import WATCHDOG
from flight.dictionary import FAIL, PARAM_IDS
from flight.sensors import GYRO, MAG, TEMP
from hal.sim.buses.bus import Fault


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path / "flash")
    r.nominal()
    return r


def _events(rig, name):
    return [e[2] for e in rig.term.events if e[1] == name]


def test_battery_low_goes_safe_sheds_loads_and_recovers(rig):
    rig.send("param_set", {"param_id": PARAM_IDS["safe.dwell_s"], "value": 60.0})
    rig.send("payload_start", {"experiment": 1, "period_s": 10, "samples": 500})
    rig.run(3)
    assert rig.twin.world.loads["payload"].value() == 1
    rig.twin.env.battery.soc = 0.18  # a deep eclipse dip
    assert rig.until(lambda: rig.app.modes.mode == 1, 60)
    rig.run(2)
    low = _events(rig, "BATTERY_LOW")
    assert low and low[0]["soc_permille"] < 250
    assert _events(rig, "LOAD_SHED")
    loads = rig.twin.world.loads
    assert loads["payload"].value() == 0 and loads["heater"].value() == 0 and loads["adcs"].value() == 0
    assert rig.app.payload.active is None and rig.app.payload.queue  # experiment closed, file kept
    assert rig.app.propulsion.inhibited
    rig.twin.env.battery.soc = 0.7  # back in the sun and charged
    assert rig.until(lambda: rig.app.modes.mode == 3, 300)
    assert _events(rig, "LOAD_RESTORED")
    texts = [r[25:].decode() for r in rig.app.audit.records()]
    assert any("battery low" in t for t in texts) and any("SAFE" in t for t in texts)


def test_rate_high_in_nominal_goes_detumble_and_back(rig):
    w = math.radians(9.0) / math.sqrt(3)
    rig.twin.env.body.omega = (w, w, -w)
    assert rig.until(lambda: rig.app.modes.mode == 2, 30)
    assert _events(rig, "RATE_HIGH")[0]["rate_cdps"] > 500
    assert rig.until(lambda: rig.app.modes.mode == 3, 5400), "rate %.2f" % math.degrees(
        rig.twin.env.body_rate()
    )
    assert math.degrees(rig.twin.env.body_rate()) < 1.5


def test_link_silence_resets_the_radio_then_goes_safe(rig):
    rig.send("param_set", {"param_id": PARAM_IDS["fdir.link_silence_s"], "value": 60.0})
    recoveries = rig.app.radio.recoveries
    rig.run(70)  # nobody talks
    assert _events(rig, "LINK_SILENCE_RESET") and rig.app.radio.recoveries == recoveries + 1
    assert rig.app.modes.mode == 3
    rig.run(60)
    assert _events(rig, "LINK_SILENCE_SAFE") and rig.app.modes.mode == 1
    rig.run(400)
    assert rig.app.modes.mode == 1  # no autonomous climb while the link is silent
    assert rig.send("ping") == [1, 3, 7]  # the link is back: the rule re-arms
    assert rig.app.fdir.silence_stage == 0


def test_gyro_fault_isolates_and_falls_back_to_the_magnetometer_rate(rig):
    rig.twin.world.board.faults.inject(0x6A, Fault(Fault.NACK))
    rig.run(8)
    assert _events(rig, "SENSOR_FAULT") == [{"sensor": GYRO, "fallback": MAG}]
    assert rig.app.adcs.rate_src == 1 and rig.app.adcs.rate_rad_s is not None
    assert rig.app.sensors.health.isolated == GYRO
    rig.twin.world.board.faults.clear()
    assert rig.send("hk_oneshot", {"sid": 2}) == [1, 3, 7]
    assert rig.term.latest(2)["rate_src"] == 1 and rig.term.latest(2)["isolated"] == GYRO
    assert rig.send("fdir_reset") == [1, 3, 7]
    rig.run(2)
    assert rig.app.adcs.rate_src == 0 and rig.app.sensors.health.isolated == 0


def test_thermometer_stuck_value_isolates_and_uses_the_magnetometer_die(rig):
    rig.twin.world.board.faults.inject(0x48, Fault(Fault.STUCK, value=0x7F))  # +255 degC: implausible
    rig.run(8)
    assert {"sensor": TEMP, "fallback": MAG} in _events(rig, "SENSOR_FAULT")
    pc = rig.app.sensors.payload_c
    assert pc is not None and abs(pc - rig.twin.env.structure.celsius()) < 0.5


def test_thruster_closed_late_disarms_and_inhibits(rig):
    rig.send("thruster_arm")
    token = _events(rig, "ARM_PENDING")[-1]["token"]
    rig.send("thruster_arm_confirm", {"token": token})
    req = rig.term.command("thruster_fire", {"thruster": 1, "duration_ms": 50})
    # the tick after the fire command stalls 400 ms: the valve closes late
    for _ in range(200):
        rig.run(0.1)
        if rig.app.propulsion.valves[1].state == 3:
            rig.twin.hang_ms = 400
            break
    rig.run(3)
    assert rig.term.verdict(req) == [1, 3, 7]
    assert _events(rig, "THRUSTER_ANOMALY") == [{"thruster": 1, "kind": 1}]
    assert rig.app.propulsion.inhibited and not rig.app.propulsion.armed()
    assert rig.code("thruster_arm") == FAIL["INTERLOCK"]
    assert rig.send("fdir_reset") == [1, 3, 7]
    assert rig.send("thruster_arm") == [1, 3, 7]


def test_watchdog_resets_a_hung_executive_and_state_persists(rig):
    rig.send("param_set", {"param_id": PARAM_IDS["comms.beacon_s"], "value": 321.0})
    rig.twin.hang_ms = 6000  # a task stuck for 6 s: the 5 s watchdog bites
    rig.run(1)
    assert rig.twin.boots == 2
    app = rig.app
    assert app.boot.count == 2 and app.boot.cause == WATCHDOG
    assert app.params["comms.beacon_s"] == 321.0
    rig.term.start(rig.ms)
    assert rig.send("hk_oneshot", {"sid": 3}) == [1, 3, 7]
    h = rig.term.latest(3)
    assert h["boot_count"] == 2 and h["reset_cause"] == WATCHDOG
    assert {"boot_count": 2, "reset_cause": WATCHDOG} in _events(rig, "BOOT")


def test_a_failing_task_is_isolated_and_reported(rig):
    def broken(*_a):
        raise RuntimeError("sensor fusion bug")

    rig.app.payload.sample = broken
    rig.send("payload_start", {"experiment": 2, "period_s": 5, "samples": 5})
    n_hk = len(rig.term.hk)
    rig.run(12)
    assert _events(rig, "TASK_FAILED")
    assert len(rig.term.hk) > n_hk  # housekeeping (another task) kept flowing
    task = next(t for t in rig.app.executive.tasks if t.name == "payload")
    assert task.errors >= 5 and not task.enabled and "sensor fusion bug" in task.last_error
    assert _events(rig, "TASK_DISABLED")


def test_beacon_over_lora_when_nobody_talks(tmp_path):
    import struct

    from hal.drivers.sx1276 import SX1276
    from hal.sim.buses.bus import SimPin
    from hal.sim.buses.spi import SimSPI
    from hal.sim.chips.sx1276 import SimSX1276

    rig = Rig(tmp_path / "flash")
    world = rig.twin.world
    spi = SimSPI()
    cs = SimPin("gs_cs", SimPin.OUT, 1)
    rst = SimPin("gs_rst", SimPin.OUT, 1)
    spi.attach(cs, SimSX1276(world.clock, world.medium, rst, None, "ground"))
    ground = SX1276(spi, cs, reset=rst, clock=world.clock)  # same LoRa settings as the flight radio
    ground.start_receive()
    beacons = []
    for _ in range(900 * 10):  # 15 minutes without a telecommand
        rig.twin.step()
        if ground.poll() == SX1276.RX_DONE:
            beacons.append(bytes(ground.packet()))
    assert len(beacons) >= 4  # every comms.beacon_s (60 s) once 600 s passed without contact
    magic, scid, obt, mode, boots, soc = struct.unpack(">2sBIBHf", beacons[-1])
    assert magic == b"CS" and scid == 0x2A and boots == 1 and mode in (1, 2, 3) and 0.5 < soc <= 1.0
    assert obt > 600
