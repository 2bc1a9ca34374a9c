"""Burn wire driver against the simulated wire and deployment switch: settle-then-burn order,
stop on deployment, bounded burn, failure, retry, abort, and the faults."""

from _check import raises

from hal.drivers.burnwire import BURNING, DEPLOYED, DONE, FAILED, IDLE, SETTLING, BurnWire
from hal.errors import ConfigError, InterlockError
from hal.sim.buses.bus import SimPin
from hal.sim.buses.clock import VirtualClock
from hal.sim.chips.burnwire import SimBurnWire


def _rig(melt_ms=2500, with_switch=True, **kwargs):
    clock = VirtualClock()
    en = SimPin("bw_en", SimPin.OUT, 0)
    fire = SimPin("bw_fire", SimPin.OUT, 0)
    wire = SimBurnWire(en, fire, clock, melt_ms=melt_ms)
    drv = BurnWire(en, fire, clock, sense_pin=wire.sense_pin if with_switch else None, **kwargs)
    return clock, drv, wire


def _run(clock, drv, ms, step=10):
    for _ in range(ms // step):
        clock.advance_ms(step)
        if drv.poll() not in (SETTLING, BURNING):
            return


def test_settles_then_burns_and_stops_when_the_switch_moves():
    clock, drv, wire = _rig(melt_ms=2500, settle_ms=100)
    assert drv.deployed() is False
    assert drv.start(5000)
    assert drv.state == SETTLING and wire.enable_pin.value() and not wire.fire_pin.value()
    _run(clock, drv, 90)
    assert drv.state == SETTLING and not wire.current_flowing()
    _run(clock, drv, 20)
    assert drv.state == BURNING and wire.current_flowing()
    _run(clock, drv, 5000)
    assert drv.state == DEPLOYED and drv.deployed()
    assert not wire.enable_pin.value() and not wire.fire_pin.value()
    assert 2500 <= drv.last_burn_ms <= 2510  # stopped within one 10 ms tick of the release
    assert wire.energised_us == 2500000


def test_short_burn_fails_then_retry_deploys():
    clock, drv, wire = _rig(melt_ms=2500, settle_ms=0)
    drv.start(1500)
    _run(clock, drv, 3000)
    assert drv.state == FAILED and not wire.released and drv.last_burn_ms == 1500
    drv.start(3000)  # heating starts again from cold
    _run(clock, drv, 4000)
    assert drv.state == DEPLOYED and drv.attempts == 2 and drv.total_burn_ms >= 4000


def test_start_when_already_deployed_does_nothing():
    clock, drv, wire = _rig(melt_ms=100, settle_ms=0)
    drv.start(500)
    _run(clock, drv, 500)
    assert drv.state == DEPLOYED
    assert drv.start(500) is False and drv.attempts == 1 and not wire.enable_pin.value()


def test_limits_and_one_burn_at_a_time():
    clock, drv, wire = _rig(max_burn_ms=4000)
    raises(ConfigError, drv.start, 0)
    raises(ConfigError, drv.start, 4001)
    drv.start(4000)
    raises(InterlockError, drv.start, 100)
    raises(ConfigError, BurnWire, wire.enable_pin, wire.fire_pin, clock, max_burn_ms=0)


def test_abort_drops_both_lines():
    clock, drv, wire = _rig(settle_ms=0)
    drv.start(4000)
    _run(clock, drv, 300)
    drv.abort()
    assert drv.state == IDLE and not wire.current_flowing() and not wire.enable_pin.value()
    assert drv.last_burn_ms == 290  # the fire line closed at the first poll, 10 ms after start


def test_faults_open_wire_and_stuck_switch():
    clock, drv, wire = _rig(melt_ms=1000, settle_ms=0)
    wire.open_circuit = True
    drv.start(2000)
    _run(clock, drv, 2500)
    assert drv.state == FAILED and not wire.released
    wire.open_circuit = False
    wire.switch_stuck = True
    drv.start(2000)
    _run(clock, drv, 2500)
    assert drv.state == FAILED and wire.released  # out, but the driver cannot know


def test_without_a_switch_the_outcome_is_unknown():
    clock, drv, wire = _rig(melt_ms=1000, with_switch=False, settle_ms=0)
    assert drv.deployed() is None
    drv.start(1500)
    _run(clock, drv, 2000)
    assert drv.state == DONE and wire.released and drv.last_burn_ms == 1500
