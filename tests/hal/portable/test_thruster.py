"""Thruster valve driver against simulated valves: the two-step arm, pulse limits, on-time
budget, auto-disarm, inhibit, late polls, and the torque the sim sees (r x F over the pulse)."""

from _check import raises

from hal.drivers.thruster import ARM_PENDING, ARMED, FIRING, SAFE, ThrusterValve
from hal.errors import ConfigError, InterlockError
from hal.sim.buses.bus import SimPin
from hal.sim.buses.clock import VirtualClock
from hal.sim.chips.thruster import SimThrusterValve, ThrusterCluster


class Body:
    thruster_torque = None


def _rig(**kwargs):
    clock = VirtualClock(start_ms=1000)
    arm = SimPin("thr_arm", SimPin.OUT, 0)
    fire = SimPin("thr_fire", SimPin.OUT, 0)
    # 10 mN along +X, mounted 5 cm along +Y: torque r x F = (0, 0.05, 0) x (0.01, 0, 0) = (0, 0, -5e-4) N m
    sim = SimThrusterValve(
        arm, fire, clock, thrust_n=0.01, position_m=(0.0, 0.05, 0.0), direction=(1.0, 0.0, 0.0)
    )
    body = Body()
    cluster = ThrusterCluster([sim], body)
    valve = ThrusterValve(arm, fire, clock, **kwargs)
    return clock, valve, sim, body, cluster


def _run(clock, valve, ms, step=1):
    for _ in range(ms // step):
        clock.advance_ms(step)
        valve.poll()


def _arm(valve):
    valve.confirm_arm(valve.request_arm())


def test_two_step_arm_then_pulse_of_exact_length_and_torque():
    clock, valve, sim, body, _ = _rig(max_on_ms=200)
    assert valve.state == SAFE and body.thruster_torque == (0.0, 0.0, 0.0)
    token = valve.request_arm()
    assert valve.state == ARM_PENDING and not sim.arm_pin.value()
    valve.confirm_arm(token)
    assert valve.state == ARMED and sim.arm_pin.value() and not sim.is_open
    valve.fire(50)
    assert valve.state == FIRING and sim.is_open
    assert body.thruster_torque == (0.0, 0.0, -0.01 * 0.05)
    _run(clock, valve, 49)
    assert sim.is_open
    _run(clock, valve, 1)
    assert not sim.is_open and valve.state == ARMED and body.thruster_torque == (0.0, 0.0, 0.0)
    assert sim.total_open_us == 50000 and sim.pulses == 1 and valve.pulses == 1 and valve.total_on_ms == 50
    assert valve.overruns == 0
    # angular impulse delivered: 5e-4 N m * 0.05 s = 2.5e-5 N m s about -Z
    assert abs(sim.total_open_us / 1e6 * 0.01 * 0.05 - 2.5e-5) < 1e-12


def test_fire_refused_unless_armed_and_within_limits():
    _clock, valve, sim, _, _ = _rig(max_on_ms=100)
    raises(InterlockError, valve.fire, 10)  # safe
    valve.request_arm()
    exc = raises(InterlockError, valve.fire, 10)  # only half armed
    assert "not armed" in str(exc)
    assert not sim.is_open
    valve.safe()
    _arm(valve)
    raises(ConfigError, valve.fire, 0)
    raises(ConfigError, valve.fire, 101)
    raises(ConfigError, valve.fire, 10.5)
    valve.fire(100)
    raises(InterlockError, valve.fire, 10)  # one pulse at a time
    assert valve.refusals == 3 and sim.pulses == 1


def test_wrong_expired_or_missing_token_safes_the_valve():
    clock, valve, sim, _, _ = _rig(arm_window_ms=5000)
    token = valve.request_arm()
    exc = raises(InterlockError, valve.confirm_arm, token ^ 1)
    assert "wrong arm token" in str(exc) and valve.state == SAFE
    raises(InterlockError, valve.confirm_arm, token)  # the old token died with the request
    token = valve.request_arm()
    clock.advance_ms(5001)
    exc = raises(InterlockError, valve.confirm_arm, token)
    assert "expired" in str(exc) and valve.state == SAFE and not sim.arm_pin.value()
    token = valve.request_arm()
    _run(clock, valve, 5010, 10)
    assert valve.state == SAFE  # poll() also drops a stale request
    exc = raises(InterlockError, valve.confirm_arm, token)  # and a late confirm says it expired
    assert "arm request expired" in str(exc) and exc.reason == 1  # ARM_EXPIRED in the dictionary
    assert valve.request_arm() != token  # tokens change between requests
    valve.safe()
    assert raises(InterlockError, valve.confirm_arm, token).reason == 2  # ARM_NOT_PENDING


def test_auto_disarm_after_idle_time():
    clock, valve, sim, _, _ = _rig(auto_disarm_ms=3000)
    _arm(valve)
    valve.fire(20)
    _run(clock, valve, 2900, 10)
    assert valve.state == ARMED  # idle time counts from the end of the pulse: 2880 ms so far
    _run(clock, valve, 200, 10)
    assert valve.state == SAFE and not sim.arm_pin.value()


def test_on_time_budget():
    clock, valve, sim, _, _ = _rig(max_on_ms=100, budget_ms=250)
    _arm(valve)
    for _ in range(2):
        valve.fire(100)
        _run(clock, valve, 100)
    assert valve.remaining_budget_ms() == 50
    exc = raises(InterlockError, valve.fire, 60)
    assert "budget" in str(exc)
    valve.fire(50)
    _run(clock, valve, 50)
    assert valve.remaining_budget_ms() == 0 and sim.total_open_us == 250000


def test_inhibit_safes_and_blocks_everything():
    clock, valve, sim, _, _ = _rig()
    _arm(valve)
    valve.fire(100)
    clock.advance_ms(30)
    valve.inhibit()
    assert not sim.is_open and not sim.arm_pin.value() and valve.state == SAFE
    assert valve.total_on_ms == 30 and sim.total_open_us == 30000
    raises(InterlockError, valve.request_arm)
    valve.inhibit(False)
    _arm(valve)
    assert valve.state == ARMED


def test_late_poll_still_closes_and_is_counted():
    clock, valve, sim, _, _ = _rig()
    _arm(valve)
    valve.fire(50)
    assert valve.deadline_ms() == (clock.ticks_ms() + 50) & ((1 << 30) - 1)
    clock.advance_ms(80)  # a slipped rate group
    valve.poll()
    assert not sim.is_open and valve.overruns == 1 and valve.total_on_ms == 80


def test_valve_needs_both_switches_and_faults_show_in_the_record():
    clock, valve, sim, _, _ = _rig()
    sim.fire_pin.value(1)  # FIRE without ARM power: nothing
    assert not sim.is_open
    sim.fire_pin.value(0)
    sim.stuck_closed = True
    _arm(valve)
    valve.fire(40)
    _run(clock, valve, 40)
    assert sim.pulses == 0 and valve.pulses == 1  # commanded, but a clogged valve gave nothing
    sim.stuck_closed = False
    sim.stuck_open = True
    valve.fire(40)
    _run(clock, valve, 40)
    valve.safe()
    clock.advance_ms(100)
    assert sim.is_open and sim.open_us_so_far() == 140000  # only FDIR on attitude rates can see this


def test_bad_configuration():
    clock = VirtualClock()
    a = SimPin("a", SimPin.OUT, 0)
    f = SimPin("f", SimPin.OUT, 0)
    raises(ConfigError, ThrusterValve, a, f, clock, max_on_ms=0)
    raises(ConfigError, ThrusterValve, a, f, clock, arm_window_ms=-1)
    raises(ConfigError, ThrusterValve, a, f, clock, budget_ms=-5)
