"""Coarse sun sensor: one photodiode per body face on ADC channels, cosine response.

The sun direction estimate is the normalized difference of opposite faces; no sun (eclipse)
is reported when every face reads below the dark threshold.
"""

import math


class CoarseSunSensor:
    def __init__(self, adcs, dark_threshold=0.05):
        if len(adcs) != 6:
            raise ValueError("need six ADCs: +x, -x, +y, -y, +z, -z")
        self.adcs = adcs
        self.dark_threshold = dark_threshold

    def intensities(self):
        return [adc.read_u16() / 65535 for adc in self.adcs]

    def sun_vector(self):
        """Unit sun vector in the body frame, or None in eclipse."""
        i = self.intensities()
        if max(i) < self.dark_threshold:
            return None
        v = (i[0] - i[1], i[2] - i[3], i[4] - i[5])
        n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
        return None if n == 0 else (v[0] / n, v[1] / n, v[2] / n)
