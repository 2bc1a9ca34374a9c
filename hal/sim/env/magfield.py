"""Earth's magnetic field as a tilted dipole (first-degree IGRF terms).

B(r) = B0 (Re/|r|)^3 [3 (m.r_hat) r_hat - m], m the unit dipole axis (pointing to the
geomagnetic south pole, i.e. field lines leave the southern hemisphere). IGRF-13 epoch
2020: g10 = -29404.8 nT, g11 = -1450.9 nT, h11 = 4652.5 nT, so B0 = 29.9 uT and the
north geomagnetic pole sits at 80.7 N, 72.7 W.
"""

import math

from hal.sim.env import vec
from hal.sim.env.orbit import R_EARTH, ecef_to_eci, eci_to_ecef

G10 = -29404.8e-9
G11 = -1450.9e-9
H11 = 4652.5e-9
B0 = math.sqrt(G10 * G10 + G11 * G11 + H11 * H11)
# dipole moment direction (ECEF) from the Gauss coefficients: m ~ (g11, h11, g10)
DIPOLE_AXIS = vec.unit((G11, H11, G10))


def field_ecef(r_ecef):
    """B in tesla at ECEF position r (m)."""
    rn = vec.norm(r_ecef)
    rh = vec.scale(r_ecef, 1.0 / rn)
    k = B0 * (R_EARTH / rn) ** 3
    m_dot_r = vec.dot(DIPOLE_AXIS, rh)
    return vec.scale(vec.sub(vec.scale(rh, 3.0 * m_dot_r), DIPOLE_AXIS), k)


def field_eci(r_eci, t):
    return ecef_to_eci(field_ecef(eci_to_ecef(r_eci, t)), t)
