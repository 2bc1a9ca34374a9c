"""Sun direction (low-precision almanac, ~0.01 deg) and a cylindrical Earth shadow."""

import math

from hal.sim.env import vec
from hal.sim.env.orbit import R_EARTH

J2000_UNIX = 946728000.0


def sun_vector(unix_time):
    """Unit vector from Earth to Sun in ECI (mean equator of date ~ J2000)."""
    n = (unix_time - J2000_UNIX) / 86400.0
    mean_lon = math.radians((280.460 + 0.9856474 * n) % 360)
    g = math.radians((357.528 + 0.9856003 * n) % 360)
    lam = mean_lon + math.radians(1.915) * math.sin(g) + math.radians(0.020) * math.sin(2 * g)
    eps = math.radians(23.439 - 4e-7 * n)
    return (math.cos(lam), math.cos(eps) * math.sin(lam), math.sin(eps) * math.sin(lam))


def in_eclipse(r_eci, sun_unit):
    """True inside the cylindrical umbra behind the Earth."""
    along = vec.dot(r_eci, sun_unit)
    if along >= 0:
        return False
    perp = vec.sub(r_eci, vec.scale(sun_unit, along))
    return vec.norm(perp) < R_EARTH
