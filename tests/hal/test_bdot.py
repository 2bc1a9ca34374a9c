"""Closed loop through the HAL: a B-dot law reads the simulated LIS3MDL over simulated I2C and
drives three magnetorquer coils over simulated PWM + direction pins; the environment turns the
commanded dipoles into torque (m x B) on the rigid body. A 10 deg/s tumble must fall below
1 deg/s within two orbits (500 km, 97.4 deg, 0.2 A m^2 coils, 3U inertia)."""

from __future__ import annotations

import math

from hal.drivers.lis3mdl import LIS3MDL
from hal.drivers.magnetorquer import Magnetorquer, MagnetorquerSet
from hal.sim.buses.bus import FaultSet, SimI2C, SimPin, SimPWM
from hal.sim.chips.lis3mdl import SimLIS3MDL
from hal.sim.chips.magnetorquer import SimMagnetorquer
from hal.sim.env import vec
from hal.sim.env.attitude import RigidBody
from hal.sim.env.environment import Environment

MAX_DIPOLE = 0.2
GAIN = 4e4  # A m^2 per (T/s)


def _world(failed_axis: int | None = None):
    rate = math.radians(10.0) / math.sqrt(3.0)
    env = Environment(body=RigidBody(inertia=(0.03, 0.03, 0.01), omega=(rate, -rate, rate)))
    i2c = SimI2C({0x1C: SimLIS3MDL(lambda: env.b_body)}, FaultSet())
    coils, sims = [], []
    for axis in range(3):
        pwm, pin = SimPWM(), SimPin(axis)
        coils.append(Magnetorquer(pwm, pin, MAX_DIPOLE))
        sims.append(SimMagnetorquer(pwm, pin, MAX_DIPOLE, failed=(axis == failed_axis)))
    env.coils = sims
    return env, LIS3MDL(i2c, scale_gauss=4), MagnetorquerSet(coils)


def _fly(env, mag, mtq, max_orbits: float) -> float | None:
    """Run B-dot at 1 Hz; return the orbit count when |omega| < 1 deg/s, or None."""
    dt, prev = 0.5, None
    limit = max_orbits * env.orbit.period
    while env.t < limit:
        if int(env.t * 2) % 2 == 0:  # 1 Hz control cycle
            b = mag.magnetic()
            if prev is not None:
                bdot = vec.scale(vec.sub(b, prev), 1.0)
                mtq.set_dipole(vec.scale(bdot, -GAIN))
            prev = b
        env.step(dt)
        if math.degrees(env.body_rate()) < 1.0:
            return env.t / env.orbit.period
    return None


def test_bdot_detumbles_ten_deg_per_second_within_two_orbits() -> None:
    env, mag, mtq = _world()
    assert abs(math.degrees(env.body_rate()) - 10.0) < 1e-9
    orbits = _fly(env, mag, mtq, max_orbits=2.0)
    assert orbits is not None, "still %.2f deg/s after 2 orbits" % math.degrees(env.body_rate())
    print("detumbled below 1 deg/s after %.2f orbits" % orbits)


def test_without_actuation_the_tumble_persists() -> None:
    env, mag, mtq = _world()
    for sim in env.coils:
        sim.failed = True
    assert _fly(env, mag, mtq, max_orbits=0.5) is None
    assert math.degrees(env.body_rate()) > 8.0
