"""The tilted-dipole field against the IGRF definition and published numbers, not against itself.

- IGRF defines B = -grad V with V = a (a/r)^2 [g10 cos(theta) + (g11 cos(phi) + h11 sin(phi)) sin(theta)]
  = a^3 (g10 z + g11 x + h11 y) / r^3 for degree 1; here V is differentiated numerically.
- NOAA/NCEI (IGRF-13, 2020.0): geomagnetic north pole 80.7 N, 72.7 W; dipole moment 7.71e22 A m^2.
"""

import math

from hal.sim.env import magfield, vec
from hal.sim.env.orbit import R_EARTH

G10, G11, H11 = -29404.8e-9, -1450.9e-9, 4652.5e-9  # IGRF-13 2020.0, tesla


def _potential(p):
    r = vec.norm(p)
    return R_EARTH**3 * (G10 * p[2] + G11 * p[0] + H11 * p[1]) / r**3


def _minus_grad(p, h=1.0):
    out = []
    for i in range(3):
        a = list(p)
        b = list(p)
        a[i] += h
        b[i] -= h
        out.append(-(_potential(a) - _potential(b)) / (2 * h))
    return out


def test_field_is_minus_the_gradient_of_the_igrf_degree_one_potential():
    points = (
        (R_EARTH + 500e3, 0.0, 0.0),
        (0.0, 0.0, R_EARTH + 400e3),
        (3.1e6, -4.2e6, 3.9e6),
        (-5.0e6, 2.5e6, -3.3e6),
    )
    for p in points:
        ref = _minus_grad(p)
        got = magfield.field_ecef(p)
        err = vec.norm(vec.sub(got, ref))
        assert err < 1e-6 * vec.norm(ref), (p, got, ref)


def test_geomagnetic_pole_and_dipole_moment_match_noaa_2020():
    north = vec.scale(magfield.DIPOLE_AXIS, -1.0)  # where the field points straight down
    lat = math.degrees(math.asin(north[2]))
    lon = math.degrees(math.atan2(north[1], north[0]))
    assert abs(lat - 80.7) < 0.15 and abs(lon + 72.7) < 0.15
    b = magfield.field_ecef(vec.scale(north, R_EARTH))
    assert vec.dot(vec.unit(b), north) < -0.999999  # vertical, pointing into the Earth
    moment = magfield.B0 * R_EARTH**3 / 1e-7  # M = 4 pi a^3 B0 / mu0
    assert abs(moment - 7.71e22) < 0.005 * 7.71e22


def test_leo_field_strength_bounds_at_500_km():
    # |B| of a dipole lies between B0 (Re/r)^3 (magnetic equator) and twice that (poles)
    k = (R_EARTH / (R_EARTH + 500e3)) ** 3
    lo, hi = magfield.B0 * k, 2 * magfield.B0 * k
    assert 23.6e-6 < lo < 23.9e-6 and 47.2e-6 < hi < 47.8e-6  # 29.81 uT * (6371.2 / 6871.2)^3 = 23.76 uT
    for lat in range(-90, 91, 15):
        for lon in range(-180, 180, 45):
            la, lo_ = math.radians(lat), math.radians(lon)
            r = R_EARTH + 500e3
            p = (r * math.cos(la) * math.cos(lo_), r * math.cos(la) * math.sin(lo_), r * math.sin(la))
            b = vec.norm(magfield.field_ecef(p))
            assert lo * (1 - 1e-9) <= b <= hi * (1 + 1e-9)
