"""ST LSM6DSOX model: WHO_AM_I, CTRL ranges, status flags and output registers with white noise.

Noise defaults are the datasheet's typical densities (high-performance mode): accelerometer
70 ug/sqrt(Hz), gyroscope 3.8 mdps/sqrt(Hz); RMS per sample = density * sqrt(ODR / 2).
"""

import math

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal.sim.chips.base import RegisterChip
from hal.sim.prng import Prng

_ACCEL_LSB = {0: 0.061e-3, 2: 0.122e-3, 3: 0.244e-3, 1: 0.488e-3}  # FS_XL bits -> g/LSB
_GYRO_LSB = {0: 8.75e-3, 1: 17.5e-3, 2: 35e-3, 3: 70e-3}  # FS_G bits -> dps/LSB
_ODR_HZ = (0, 12.5, 26, 52, 104, 208, 416, 833, 1666, 3332, 6664)

# registers and fields, datasheet DS12814 section 9 (as hal.drivers.lsm6dsox names them)
_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)  # ODR_XL[3:0] FS_XL[1:0] LPF2_XL_EN -
_CTRL2_G = const(0x11)  # ODR_G[3:0] FS_G[1:0] FS_125 -
_CTRL3_C = const(0x12)  # BOOT BDU H_LACTIVE PP_OD SIM IF_INC - SW_RESET
_STATUS_REG = const(0x1E)  # - - - - - TDA GDA XLDA
_OUTX_L_G = const(0x22)
_OUTX_L_A = const(0x28)
_ID = const(0x6C)  # WHO_AM_I value
_ODR_SHIFT = const(4)  # ODR_XL, ODR_G: bits 7:4
_FS_SHIFT = const(2)  # FS_XL, FS_G: bits 3:2
_FS_MASK = const(0x03)
_IF_INC = const(0x04)  # CTRL3_C IF_INC (set at power-on)
_SW_RESET = const(0x01)  # CTRL3_C SW_RESET
_XLDA = const(0x01)  # STATUS_REG
_GDA = const(0x02)


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
        self.regs[_WHO_AM_I] = _ID
        self.regs[_CTRL3_C] = _IF_INC

    def _odr(self, ctrl):
        i = ctrl >> _ODR_SHIFT
        return _ODR_HZ[i] if i < len(_ODR_HZ) else 0

    def refresh(self, reg):
        if reg == _STATUS_REG:
            status = 0
            if self._odr(self.regs[_CTRL1_XL]):
                status |= _XLDA
            if self._odr(self.regs[_CTRL2_G]):
                status |= _GDA
            self.regs[_STATUS_REG] = status
        elif reg == _OUTX_L_G:
            self._sample()

    def _put(self, base, values):
        for i in range(3):
            raw = max(-32768, min(32767, int(round(values[i]))))
            self.regs[base + 2 * i] = raw & 0xFF
            self.regs[base + 2 * i + 1] = (raw >> 8) & 0xFF

    def _sample(self):
        odr_g = self._odr(self.regs[_CTRL2_G])
        if odr_g:
            lsb = _GYRO_LSB[(self.regs[_CTRL2_G] >> _FS_SHIFT) & _FS_MASK]
            sigma = self.gyro_density * math.sqrt(odr_g / 2)
            w = self.rate()
            self._put(_OUTX_L_G, [(math.degrees(w[i]) + self.rng.gauss(sigma)) / lsb for i in range(3)])
        odr_a = self._odr(self.regs[_CTRL1_XL])
        if odr_a:
            lsb = _ACCEL_LSB[(self.regs[_CTRL1_XL] >> _FS_SHIFT) & _FS_MASK]
            sigma = self.accel_density * math.sqrt(odr_a / 2)
            a = self.accel()
            self._put(_OUTX_L_A, [(a[i] / 9.80665 + self.rng.gauss(sigma)) / lsb for i in range(3)])

    def on_write(self, reg, value):
        if reg == _CTRL3_C and value & _SW_RESET:
            self.reset()
