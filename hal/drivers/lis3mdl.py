"""ST LIS3MDL magnetometer on I2C.

    mag = LIS3MDL(i2c)              # probes WHO_AM_I (0x3D), continuous mode, +-4 gauss
    bx, by, bz = mag.magnetic()     # tesla

Register map from the LIS3MDL datasheet (DocID024204), section 7.
"""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal import drivers as _reg
from hal.errors import ConfigError, DeviceNotFoundError, DeviceTimeoutError

_WHO_AM_I = const(0x0F)
_CTRL_REG1 = const(0x20)  # TEMP_EN OM[1:0] DO[2:0] FAST_ODR ST
_CTRL_REG2 = const(0x21)  # - FS[1:0] - REBOOT SOFT_RST - -
_CTRL_REG3 = const(0x22)  # - - LP - - SIM MD[1:0]
_CTRL_REG4 = const(0x23)  # - - - - OMZ[1:0] BLE -
_STATUS_REG = const(0x27)  # ZYXOR ZOR YOR XOR ZYXDA ZDA YDA XDA
_OUT_X_L = const(0x28)
_TEMP_OUT_L = const(0x2E)
_AUTO_INC = const(0x80)  # sub-address MSB: multi-byte read with address increment
_ID = const(0x3D)  # WHO_AM_I value

# register fields, section 7 (CTRL_REG1..4, STATUS_REG)
_OM_UHP = const(0x60)  # CTRL_REG1 OM = 11: X and Y axes in ultra-high-performance mode
_DO_SHIFT = const(2)  # CTRL_REG1 DO[2:0]: output data rate
_FS_SHIFT = const(5)  # CTRL_REG2 FS[1:0]: full scale
_MD_CONTINUOUS = const(0x00)  # CTRL_REG3 MD = 00: continuous conversion
_OMZ_UHP = const(0x0C)  # CTRL_REG4 OMZ = 11: Z axis in ultra-high-performance mode
_ZYXDA = const(0x08)  # STATUS_REG: a new X, Y and Z sample

_SCALES = {4: (0, 6842), 8: (1, 3421), 12: (2, 2281), 16: (3, 1711)}  # gauss: (FS code, LSB/gauss)
_ODRS = {10: 4, 20: 5, 40: 6, 80: 7}  # Hz -> DO code


class LIS3MDL:
    def __init__(self, i2c, address=0x1C, scale_gauss=4, odr_hz=10, retries=3):
        if scale_gauss not in _SCALES:
            raise ConfigError("LIS3MDL scale must be one of 4, 8, 12, 16 gauss, got %r" % (scale_gauss,))
        if odr_hz not in _ODRS:
            raise ConfigError("LIS3MDL data rate must be one of 10, 20, 40, 80 Hz, got %r" % (odr_hz,))
        self.i2c = i2c
        self.address = address
        self.retries = retries
        self._b6 = bytearray(6)
        self._scale_gauss = scale_gauss
        self._odr_hz = odr_hz
        self.errors = 0
        self.configure()

    def configure(self):
        """Probe the identity and program the chip (also used to recover after a reset)."""
        try:
            who = _reg.read_u8(self.i2c, self.address, _WHO_AM_I)
        except OSError as exc:
            raise DeviceNotFoundError("LIS3MDL@0x%02X" % self.address, "no answer (%s)" % exc) from None
        if who != _ID:
            raise DeviceNotFoundError("LIS3MDL@0x%02X" % self.address, "WHO_AM_I 0x%02X, expected 0x3D" % who)
        fs_bits, self._lsb_per_gauss = _SCALES[self._scale_gauss]
        i2c, addr = self.i2c, self.address
        _reg.write_u8(i2c, addr, _CTRL_REG1, _OM_UHP | (_ODRS[self._odr_hz] << _DO_SHIFT))
        _reg.write_u8(i2c, addr, _CTRL_REG2, fs_bits << _FS_SHIFT)
        _reg.write_u8(i2c, addr, _CTRL_REG4, _OMZ_UHP)
        _reg.write_u8(i2c, addr, _CTRL_REG3, _MD_CONTINUOUS)

    def data_ready(self):
        return bool(_reg.read_u8(self.i2c, self.address, _STATUS_REG) & _ZYXDA)

    def wait_ready(self, clock, timeout_ms=200, poll_ms=5):
        waited = 0
        while not self.data_ready():
            if waited >= timeout_ms:
                raise DeviceTimeoutError("LIS3MDL", "data ready", waited)
            clock.sleep_ms(poll_ms)
            waited += poll_ms
        return waited

    def magnetic_raw(self):
        """(x, y, z) in LSB; retries transient bus errors, then re-raises OSError."""
        buf = self._b6
        for attempt in range(self.retries + 1):
            try:
                self.i2c.readfrom_mem_into(self.address, _OUT_X_L | _AUTO_INC, buf)
                break
            except OSError:
                self.errors += 1
                if attempt == self.retries:
                    raise
        x = buf[0] | buf[1] << 8
        y = buf[2] | buf[3] << 8
        z = buf[4] | buf[5] << 8
        return (
            x - 65536 if x & 0x8000 else x,
            y - 65536 if y & 0x8000 else y,
            z - 65536 if z & 0x8000 else z,
        )

    def magnetic(self):
        """Field in tesla (1 gauss = 1e-4 T)."""
        x, y, z = self.magnetic_raw()
        k = 1e-4 / self._lsb_per_gauss
        return (x * k, y * k, z * k)

    def temperature(self):
        """Die temperature in degC (8 LSB/degC, 0 at 25 degC): a coarse second thermometer."""
        buf = self._b6
        self.i2c.readfrom_mem_into(self.address, _TEMP_OUT_L | _AUTO_INC, memoryview(buf)[:2])
        raw = buf[0] | buf[1] << 8
        return (raw - 65536 if raw & 0x8000 else raw) / 8 + 25.0
