"""Elliptical orbits against textbook references and the two-body conservation laws.

References: Vallado, Fundamentals of Astrodynamics, Example 2-1 (M = 235.4 deg, e = 0.4 gives
E = 220.512 deg); a Molniya orbit (a = 26 562 km) has a period of half a sidereal day, 718 min;
vis-viva v^2 = mu (2/r - 1/a); h = sqrt(mu a (1 - e^2)) and energy -mu / 2a are constant."""

import math

from _check import raises

from hal.sim import vec
from hal.sim.kepler import KeplerOrbit, solve_kepler
from hal.sim.orbit import MU_EARTH, CircularOrbit


def test_kepler_equation_textbook_example():
    big_e = solve_kepler(math.radians(235.4), 0.4)
    assert abs(math.degrees(big_e) % 360 - 220.512) < 1e-3
    m = big_e - 0.4 * math.sin(big_e)
    assert abs(math.fmod(m - math.radians(235.4), 2 * math.pi)) < 1e-12


def test_kepler_equation_converges_for_high_eccentricity():
    for e in (0.0, 0.5, 0.9, 0.99):
        for k in range(12):
            m = k * 2 * math.pi / 12 + 0.01
            big_e = solve_kepler(m, e)
            assert abs(big_e - e * math.sin(big_e) - math.fmod(m, 2 * math.pi)) < 1e-10


def test_molniya_period_and_apsides():
    o = KeplerOrbit(26562.0, 0.74, inclination_deg=63.4, arg_perigee_deg=270.0)
    assert abs(o.period / 60 - 718.0) < 1.0
    assert abs(vec.norm(o.position(0.0)) / 1e3 - 26562.0 * 0.26) < 1e-6  # perigee at M = 0
    assert abs(vec.norm(o.position(o.period / 2)) / 1e3 - 26562.0 * 1.74) < 1e-6  # apogee
    assert o.perigee_km() < 7000 < 46000 < o.apogee_km()


def test_vis_viva_angular_momentum_and_energy_are_conserved():
    o = KeplerOrbit(
        9000.0, 0.2, inclination_deg=51.6, raan_deg=40.0, arg_perigee_deg=30.0, mean_anomaly0_deg=10.0
    )
    h_expected = math.sqrt(MU_EARTH * o.a * (1 - 0.04))
    for i in range(17):
        t = i * o.period / 16.3
        r = o.position(t)
        v = o.velocity(t)
        rn, vn = vec.norm(r), vec.norm(v)
        assert abs(vn * vn - MU_EARTH * (2 / rn - 1 / o.a)) < 1e-6 * vn * vn
        assert abs(vec.norm(vec.cross(r, v)) - h_expected) < 1e-8 * h_expected
        assert abs((vn * vn / 2 - MU_EARTH / rn) + MU_EARTH / (2 * o.a)) < 1e-6 * MU_EARTH / o.a


def test_velocity_is_the_derivative_of_position():
    o = KeplerOrbit(7500.0, 0.05, inclination_deg=98.0, raan_deg=120.0, arg_perigee_deg=45.0)
    t, dt = 1234.0, 0.01
    num = vec.scale(vec.sub(o.position(t + dt), o.position(t - dt)), 1 / (2 * dt))
    assert vec.norm(vec.sub(num, o.velocity(t))) < 1e-3  # m/s


def test_zero_eccentricity_is_the_circular_orbit():
    c = CircularOrbit(altitude_km=500, inclination_deg=97.4, raan_deg=30.0, arg_lat0_deg=15.0)
    k = KeplerOrbit(c.radius / 1e3, 0.0, inclination_deg=97.4, raan_deg=30.0, mean_anomaly0_deg=15.0)
    for t in (0.0, 700.0, 4000.0):
        assert vec.norm(vec.sub(c.position(t), k.position(t))) < 1e-3
        assert vec.norm(vec.sub(c.velocity(t), k.velocity(t))) < 1e-6
    assert abs(c.period - k.period) < 1e-9


def test_rejects_open_orbits():
    raises(ValueError, KeplerOrbit, 7000.0, 1.0)
    raises(ValueError, KeplerOrbit, 7000.0, -0.1)


def test_environment_flies_an_elliptical_orbit():
    from hal.sim.environment import Environment

    o = KeplerOrbit(7371.2, 0.1, inclination_deg=90.0, arg_perigee_deg=90.0)  # perigee over the pole
    env = Environment(orbit=o)
    b_perigee = vec.norm(env.b_eci)
    env.step(o.period / 2)  # apogee, over the other pole
    b_apogee = vec.norm(env.b_eci)
    # same magnetic latitude band, radius ratio (1.1 / 0.9): the dipole falls as r^-3
    ratio = b_perigee / b_apogee
    assert abs(ratio - (1.1 / 0.9) ** 3) < 0.1 * ratio
