"""Circular orbits around a spherical Earth (enough for LEO CubeSat power and field cycles)."""

import math

MU_EARTH = 3.986004418e14  # m^3/s^2
R_EARTH = 6371.2e3  # m, the IGRF reference radius
OMEGA_EARTH = 7.2921159e-5  # rad/s, Earth rotation rate


class CircularOrbit:
    def __init__(self, altitude_km=500.0, inclination_deg=97.4, raan_deg=0.0, arg_lat0_deg=0.0):
        self.radius = R_EARTH + altitude_km * 1e3
        self.inc = math.radians(inclination_deg)
        self.raan = math.radians(raan_deg)
        self.u0 = math.radians(arg_lat0_deg)
        self.mean_motion = math.sqrt(MU_EARTH / self.radius**3)
        self.period = 2 * math.pi / self.mean_motion

    def position(self, t):
        """ECI position (m) at t seconds."""
        u = self.u0 + self.mean_motion * t
        cu, su = math.cos(u), math.sin(u)
        co, so = math.cos(self.raan), math.sin(self.raan)
        ci, si = math.cos(self.inc), math.sin(self.inc)
        r = self.radius
        return (r * (co * cu - so * su * ci), r * (so * cu + co * su * ci), r * su * si)

    def velocity(self, t):
        u = self.u0 + self.mean_motion * t
        cu, su = math.cos(u), math.sin(u)
        co, so = math.cos(self.raan), math.sin(self.raan)
        ci, si = math.cos(self.inc), math.sin(self.inc)
        v = self.radius * self.mean_motion
        return (v * (-co * su - so * cu * ci), v * (-so * su + co * cu * ci), v * cu * si)


def eci_to_ecef(v, t, gmst0=0.0):
    th = gmst0 + OMEGA_EARTH * t
    c, s = math.cos(th), math.sin(th)
    return (c * v[0] + s * v[1], -s * v[0] + c * v[1], v[2])


def ecef_to_eci(v, t, gmst0=0.0):
    th = gmst0 + OMEGA_EARTH * t
    c, s = math.cos(th), math.sin(th)
    return (c * v[0] - s * v[1], s * v[0] + c * v[1], v[2])
