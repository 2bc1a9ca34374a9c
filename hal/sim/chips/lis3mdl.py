"""ST LIS3MDL 3-axis magnetometer model: identity, full scale, continuous mode, data-ready, data."""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal.sim.chips.base import RegisterChip
from hal.sim.prng import Prng

WHO_AM_I = 0x0F
CTRL_REG1 = 0x20
CTRL_REG2 = 0x21
CTRL_REG3 = 0x22
STATUS = 0x27
OUT_X_L = 0x28
TEMP_OUT_L = 0x2E
LSB_PER_GAUSS = (6842, 3421, 2281, 1711)  # FS = +-4, 8, 12, 16 gauss (datasheet table 3)

# register fields, datasheet DocID024204 section 7 (as hal.drivers.lis3mdl names them)
_ID = const(0x3D)  # WHO_AM_I value
_CTRL_REG1_POR = const(0x10)  # DO = 100: 10 Hz
_FS_SHIFT = const(5)  # CTRL_REG2 FS[1:0]
_FS_MASK = const(0x03)
_SOFT_RST = const(0x04)  # CTRL_REG2 SOFT_RST
_MD_MASK = const(0x03)  # CTRL_REG3 MD[1:0]
_MD_CONTINUOUS = const(0x00)
_MD_POWER_DOWN = const(0x03)
_XYZ_DA = const(0x0F)  # STATUS_REG ZYXDA ZDA YDA XDA
_AUTO_INC = const(0x80)  # sub-address MSB: multi-byte access with address increment
_SUB_ADDR = const(0x7F)  # the register address below it


class SimLIS3MDL(RegisterChip):
    """Reads `field()` (tesla, body frame) and `temperature()` (deg C) from the environment."""

    AUTO_INCREMENT = False  # the MSB of the sub-address enables auto-increment (datasheet 5.1.1)

    def __init__(self, field, temperature=lambda: 20.0, noise_gauss=0.0032, seed=3):
        self.field = field
        self.temperature = temperature
        self.noise = noise_gauss  # ~3.2 mgauss RMS on X/Y at +-4 gauss, ultra-high-performance
        self.rng = Prng(seed)
        super().__init__()

    def power_on_values(self):
        self.regs[WHO_AM_I] = _ID
        self.regs[CTRL_REG1] = _CTRL_REG1_POR
        self.regs[CTRL_REG3] = _MD_POWER_DOWN  # until the driver selects continuous mode

    def _sample(self):
        fs = (self.regs[CTRL_REG2] >> _FS_SHIFT) & _FS_MASK
        sens = LSB_PER_GAUSS[fs]
        b = self.field()
        for axis in range(3):
            gauss = b[axis] * 1e4 + self.rng.gauss(self.noise)  # 1 gauss = 1e-4 T
            raw = int(round(gauss * sens))
            raw = max(-32768, min(32767, raw))
            self.regs[OUT_X_L + 2 * axis] = raw & 0xFF
            self.regs[OUT_X_L + 2 * axis + 1] = (raw >> 8) & 0xFF
        t = int(round(self.temperature() * 8))  # 8 LSB/degC, 0 at 25 degC per datasheet
        t = (t - 200) & 0xFFFF
        self.regs[TEMP_OUT_L] = t & 0xFF
        self.regs[TEMP_OUT_L + 1] = t >> 8
        self.regs[STATUS] = _XYZ_DA  # ZYXDA and per-axis data available

    def read(self, reg, n):
        auto = reg & _AUTO_INC
        reg &= _SUB_ADDR
        if reg in (STATUS, OUT_X_L):
            if self.regs[CTRL_REG3] & _MD_MASK == _MD_CONTINUOUS:
                self._sample()
        out = bytearray(n)
        for i in range(n):
            r = reg + i if auto else reg
            out[i] = self.regs[r & 0xFF]
        if reg <= OUT_X_L + 5 and reg + n > OUT_X_L:
            self.regs[STATUS] = 0  # reading the outputs clears data-ready
        return out

    def write(self, reg, data):
        reg &= _SUB_ADDR
        for i in range(len(data)):
            self.regs[(reg + i) & 0xFF] = data[i]
            if reg + i == CTRL_REG2 and data[i] & _SOFT_RST:
                self.reset()
