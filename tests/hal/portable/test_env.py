"""The simulated environment against physics references (not against its own numbers)."""

import math

from hal.sim.env import magfield, orbit, sun, vec
from hal.sim.env.attitude import RigidBody
from hal.sim.env.environment import Environment


def test_orbit_period_is_keplers():
    o = orbit.CircularOrbit(altitude_km=500)
    # Kepler's third law: T = 2 pi sqrt(a^3 / mu); a 500 km LEO orbit takes about 94.6 minutes
    assert abs(o.period / 60 - 94.6) < 0.2
    assert abs(vec.norm(o.position(1234.0)) - o.radius) < 1e-3
    assert abs(vec.norm(o.velocity(10.0)) - math.sqrt(orbit.MU_EARTH / o.radius)) < 1e-6


def test_dipole_field_magnitude_in_leo():
    # IGRF: surface field ~25 uT at the magnetic equator, ~60 uT at the poles;
    # at 500 km scale by (Re / r)^3 = 0.79: every sample must lie in 20..60 uT
    o = orbit.CircularOrbit(altitude_km=500, inclination_deg=97.4)
    mags = []
    for i in range(60):
        t = i * o.period / 60
        mags.append(vec.norm(magfield.field_eci(o.position(t), t)) * 1e6)
    assert min(mags) > 20 and max(mags) < 60
    assert max(mags) / min(mags) > 1.7  # a polar orbit sees nearly the 2:1 pole/equator ratio


def test_dipole_pole_is_twice_equator_and_falls_as_r_cubed():
    axis = magfield.DIPOLE_AXIS
    r = orbit.R_EARTH
    pole = vec.norm(magfield.field_ecef(vec.scale(axis, r)))
    perp = vec.unit(vec.cross(axis, (0.0, 0.0, 1.0)))
    equator = vec.norm(magfield.field_ecef(vec.scale(perp, r)))
    assert abs(pole / equator - 2.0) < 1e-9
    assert abs(equator - magfield.B0) < 1e-12
    far = vec.norm(magfield.field_ecef(vec.scale(perp, 2 * r)))
    assert abs(equator / far - 8.0) < 1e-9


def test_northern_hemisphere_field_points_down():
    b = magfield.field_ecef((0.0, 0.0, orbit.R_EARTH + 500e3))
    assert b[2] < 0


def test_sun_vector_at_solstice_and_equinox():
    # 2027-06-21 ~14:11 UTC (June solstice): declination +23.44 deg
    s = sun.sun_vector(1813587060.0)
    assert abs(math.degrees(math.asin(s[2])) - 23.44) < 0.1
    # 2027-03-20 ~14:25 UTC (March equinox): declination ~0, sun along +x
    s = sun.sun_vector(1805552700.0)
    assert abs(math.degrees(math.asin(s[2]))) < 0.15 and s[0] > 0.999  # 0.4 deg/day near equinox


def test_eclipse_fraction_of_a_low_beta_orbit():
    # beta = 0 at 500 km: the cylindrical shadow covers about 37.7 % of the orbit
    o = orbit.CircularOrbit(altitude_km=500, inclination_deg=0.0)
    sun_dir = (1.0, 0.0, 0.0)
    n = 720
    dark = sum(1 for i in range(n) if sun.in_eclipse(o.position(i * o.period / n), sun_dir))
    # the shadow cylinder spans 2 asin(Re / r) of orbit angle
    expect = 2 * math.asin(orbit.R_EARTH / o.radius) / (2 * math.pi)
    assert abs(dark / n - expect) < 0.01


def test_torque_free_body_conserves_momentum_and_energy():
    body = RigidBody(inertia=(0.03, 0.025, 0.01), omega=(0.1, 0.05, -0.2))
    h0 = vec.norm(vec.rotate_to_inertial(body.q, body.angular_momentum()))
    e0 = body.kinetic_energy()
    for _ in range(2000):
        body.step(0.05, (0.0, 0.0, 0.0))
    h1 = vec.norm(vec.rotate_to_inertial(body.q, body.angular_momentum()))
    assert abs(h1 - h0) / h0 < 1e-6
    assert abs(body.kinetic_energy() - e0) / e0 < 1e-6


def test_constant_torque_spins_up_as_torque_over_inertia():
    body = RigidBody(inertia=(0.02, 0.02, 0.02))
    for _ in range(100):
        body.step(0.1, (0.0, 0.0, 1e-4))
    assert abs(body.omega[2] - 1e-4 / 0.02 * 10.0) < 1e-9


def test_power_follows_the_sun_and_the_shadow():
    env = Environment(orbit=orbit.CircularOrbit(altitude_km=500, inclination_deg=0.0))
    lit = 0
    dark_power = 0.0
    soc0 = env.battery.soc
    for _ in range(95):
        env.step(60.0)
        if env.eclipse:
            dark_power += env.solar_w
        else:
            lit += 1
    assert dark_power == 0.0 and 0 < lit < 95
    assert 0.0 < env.battery.soc <= 1.0 and env.battery.soc != soc0
    assert -60 < env.structure.celsius() < 80
