"""Elliptical (Keplerian) two-body orbits, a drop-in for hal.sim.orbit.CircularOrbit in the
Environment (position(t), velocity(t), period, mean_motion): Molniya, GTO, or a LEO with some
eccentricity. Two-body only: no J2, no drag.

Kepler's equation M = E - e sin E is solved by Newton's method from E0 = M (E0 = pi when
e > 0.8, which converges for every M), at most 50 iterations to |dE| < 1e-12.
"""

import math

from hal.sim.orbit import MU_EARTH


def solve_kepler(mean_anomaly, e):
    """Eccentric anomaly E (rad) for mean anomaly M (rad) and eccentricity 0 <= e < 1."""
    m = math.fmod(mean_anomaly, 2 * math.pi)
    big_e = math.pi if e > 0.8 else m
    for _ in range(50):
        step = (big_e - e * math.sin(big_e) - m) / (1.0 - e * math.cos(big_e))
        big_e -= step
        if abs(step) < 1e-12:
            break
    return big_e


class KeplerOrbit:
    def __init__(
        self,
        semi_major_axis_km,
        eccentricity=0.0,
        inclination_deg=97.4,
        raan_deg=0.0,
        arg_perigee_deg=0.0,
        mean_anomaly0_deg=0.0,
    ):
        if not 0.0 <= eccentricity < 1.0:
            raise ValueError("KeplerOrbit needs an ellipse: eccentricity in [0, 1), got %r" % (eccentricity,))
        self.a = semi_major_axis_km * 1e3
        self.e = eccentricity
        self.inc = math.radians(inclination_deg)
        self.raan = math.radians(raan_deg)
        self.argp = math.radians(arg_perigee_deg)
        self.m0 = math.radians(mean_anomaly0_deg)
        self.mean_motion = math.sqrt(MU_EARTH / self.a**3)
        self.period = 2 * math.pi / self.mean_motion
        # perifocal -> ECI rotation, R3(-raan) R1(-i) R3(-argp), as two 3-vectors (P and Q axes)
        co, so = math.cos(self.raan), math.sin(self.raan)
        ci, si = math.cos(self.inc), math.sin(self.inc)
        cw, sw = math.cos(self.argp), math.sin(self.argp)
        self._p = (co * cw - so * sw * ci, so * cw + co * sw * ci, sw * si)
        self._q = (-co * sw - so * cw * ci, -so * sw + co * cw * ci, cw * si)

    def perigee_km(self):
        return self.a * (1 - self.e) / 1e3

    def apogee_km(self):
        return self.a * (1 + self.e) / 1e3

    def _state(self, t):
        big_e = solve_kepler(self.m0 + self.mean_motion * t, self.e)
        ce, se = math.cos(big_e), math.sin(big_e)
        b = math.sqrt(1 - self.e * self.e)
        r = self.a * (1 - self.e * ce)
        xp, yp = self.a * (ce - self.e), self.a * b * se
        k = math.sqrt(MU_EARTH * self.a) / r
        vxp, vyp = -k * se, k * b * ce
        return xp, yp, vxp, vyp

    def position(self, t):
        """ECI position (m) at t seconds."""
        xp, yp, _vx, _vy = self._state(t)
        p, q = self._p, self._q
        return (xp * p[0] + yp * q[0], xp * p[1] + yp * q[1], xp * p[2] + yp * q[2])

    def velocity(self, t):
        _x, _y, vx, vy = self._state(t)
        p, q = self._p, self._q
        return (vx * p[0] + vy * q[0], vx * p[1] + vy * q[1], vx * p[2] + vy * q[2])
