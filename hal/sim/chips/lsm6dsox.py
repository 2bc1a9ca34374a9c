"""ST LSM6DSOX model: WHO_AM_I, CTRL ranges, status flags and output registers with white noise.

Noise defaults are the datasheet's typical densities (high-performance mode): accelerometer
70 ug/sqrt(Hz), gyroscope 3.8 mdps/sqrt(Hz); RMS per sample = density * sqrt(ODR / 2).
"""

import math

from hal.sim.chips.base import RegisterChip
from hal.sim.prng import Prng

_ACCEL_LSB = {0: 0.061e-3, 2: 0.122e-3, 3: 0.244e-3, 1: 0.488e-3}  # FS_XL bits -> g/LSB
_GYRO_LSB = {0: 8.75e-3, 1: 17.5e-3, 2: 35e-3, 3: 70e-3}  # FS_G bits -> dps/LSB
_ODR_HZ = (0, 12.5, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664)


class SimLSM6DSOX(RegisterChip):
    def __init__(
        self, rate, accel=lambda: (0.0, 0.0, 0.0), accel_density_g=70e-6, gyro_density_dps=3.8e-3, seed=5
    ):
        self.rate = rate  # rad/s, body frame
        self.accel = accel  # m/s^2 (specific force; ~0 in free fall)
        self.accel_density = accel_density_g
        self.gyro_density = gyro_density_dps
        self.rng = Prng(seed)
        super().__init__()

    def power_on_values(self):
        self.regs[0x0F] = 0x6C
        self.regs[0x12] = 0x04  # IF_INC

    def _odr(self, ctrl):
        i = ctrl >> 4
        return _ODR_HZ[i] if i < len(_ODR_HZ) else 0

    def refresh(self, reg):
        if reg == 0x1E:
            status = 0
            if self._odr(self.regs[0x10]):
                status |= 1
            if self._odr(self.regs[0x11]):
                status |= 2
            self.regs[0x1E] = status
        elif reg == 0x22:
            self._sample()

    def _put(self, base, values):
        for i in range(3):
            raw = max(-32768, min(32767, int(round(values[i]))))
            self.regs[base + 2 * i] = raw & 0xFF
            self.regs[base + 2 * i + 1] = (raw >> 8) & 0xFF

    def _sample(self):
        odr_g = self._odr(self.regs[0x11])
        if odr_g:
            lsb = _GYRO_LSB[(self.regs[0x11] >> 2) & 3]
            sigma = self.gyro_density * math.sqrt(odr_g / 2)
            w = self.rate()
            self._put(0x22, [(math.degrees(w[i]) + self.rng.gauss(sigma)) / lsb for i in range(3)])
        odr_a = self._odr(self.regs[0x10])
        if odr_a:
            lsb = _ACCEL_LSB[(self.regs[0x10] >> 2) & 3]
            sigma = self.accel_density * math.sqrt(odr_a / 2)
            a = self.accel()
            self._put(0x28, [(a[i] / 9.80665 + self.rng.gauss(sigma)) / lsb for i in range(3)])

    def on_write(self, reg, value):
        if reg == 0x12 and value & 1:  # SW_RESET
            self.reset()
