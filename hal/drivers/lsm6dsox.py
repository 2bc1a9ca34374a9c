"""ST LSM6DSOX accelerometer + gyroscope on I2C (datasheet DS12814, section 9).

imu = LSM6DSOX(i2c, accel_g=4, gyro_dps=500, odr_hz=104)
imu.acceleration()   # m/s^2
imu.gyro()           # rad/s
imu.burst_into(buf)  # both sensors in one 12-byte read (gyro XYZ, accel XYZ)
"""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal import drivers as _reg
from hal.errors import ConfigError, DeviceNotFoundError

_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)  # ODR_XL[3:0] FS_XL[1:0] LPF2_XL_EN -
_CTRL2_G = const(0x11)  # ODR_G[3:0] FS_G[1:0] FS_125 -
_CTRL3_C = const(0x12)  # BOOT BDU H_LACTIVE PP_OD SIM IF_INC - SW_RESET
_STATUS_REG = const(0x1E)  # - - - - - TDA GDA XLDA
_OUTX_L_G = const(0x22)
_ID = const(0x6C)  # WHO_AM_I value

# register fields, section 9 (CTRL1_XL, CTRL2_G, CTRL3_C, STATUS_REG)
_ODR_SHIFT = const(4)  # CTRL1_XL ODR_XL, CTRL2_G ODR_G: bits 7:4
_FS_SHIFT = const(2)  # CTRL1_XL FS_XL, CTRL2_G FS_G: bits 3:2
_BDU = const(0x40)  # CTRL3_C: block data update, both bytes of an output come from one sample
_IF_INC = const(0x04)  # CTRL3_C: register address auto-increment in multi-byte access
_XLDA = const(0x01)  # STATUS_REG: new accelerometer sample
_GDA = const(0x02)  # STATUS_REG: new gyroscope sample
_G = 9.80665
_RAD = 0.017453292519943295

# range -> (FS_XL code, g/LSB), (FS_G code, dps/LSB); rate in Hz -> ODR_XL/ODR_G code
_ACCEL = {2: (0b00, 0.061e-3), 4: (0b10, 0.122e-3), 8: (0b11, 0.244e-3), 16: (0b01, 0.488e-3)}
_GYRO = {250: (0b00, 8.75e-3), 500: (0b01, 17.5e-3), 1000: (0b10, 35e-3), 2000: (0b11, 70e-3)}
_ODR = {12: 1, 26: 2, 52: 3, 104: 4, 208: 5, 416: 6, 833: 7}


class LSM6DSOX:
    def __init__(self, i2c, address=0x6A, accel_g=4, gyro_dps=500, odr_hz=104):
        if accel_g not in _ACCEL or gyro_dps not in _GYRO or odr_hz not in _ODR:
            raise ConfigError(
                "LSM6DSOX: unsupported range/rate %r g, %r dps, %r Hz" % (accel_g, gyro_dps, odr_hz)
            )
        self.i2c = i2c
        self.address = address
        self._b12 = bytearray(12)
        self._mv12 = memoryview(self._b12)
        self._accel = _ACCEL[accel_g]
        self._gyro = _GYRO[gyro_dps]
        self._odr = _ODR[odr_hz]
        self.configure()

    def configure(self):
        try:
            who = _reg.read_u8(self.i2c, self.address, _WHO_AM_I)
        except OSError as exc:
            raise DeviceNotFoundError("LSM6DSOX@0x%02X" % self.address, "no answer (%s)" % exc) from None
        if who != _ID:
            raise DeviceNotFoundError(
                "LSM6DSOX@0x%02X" % self.address, "WHO_AM_I 0x%02X, expected 0x6C" % who
            )
        i2c, addr = self.i2c, self.address
        _reg.write_u8(i2c, addr, _CTRL3_C, _BDU | _IF_INC)  # coherent multi-byte reads
        _reg.write_u8(i2c, addr, _CTRL1_XL, self._odr << _ODR_SHIFT | self._accel[0] << _FS_SHIFT)
        _reg.write_u8(i2c, addr, _CTRL2_G, self._odr << _ODR_SHIFT | self._gyro[0] << _FS_SHIFT)

    def data_ready(self):
        """(accel ready, gyro ready)."""
        s = _reg.read_u8(self.i2c, self.address, _STATUS_REG)
        return bool(s & _XLDA), bool(s & _GDA)

    def burst_into(self, buf):
        """12 raw bytes, gyro X..Z then accel X..Z, little-endian; allocates nothing."""
        self.i2c.readfrom_mem_into(self.address, _OUTX_L_G, buf)

    @staticmethod
    def _s16(b, i):
        v = b[i] | b[i + 1] << 8
        return v - 65536 if v & 0x8000 else v

    def gyro(self):
        self.burst_into(self._b12)
        k = self._gyro[1] * _RAD
        b = self._b12
        return (self._s16(b, 0) * k, self._s16(b, 2) * k, self._s16(b, 4) * k)

    def acceleration(self):
        self.burst_into(self._b12)
        k = self._accel[1] * _G
        b = self._b12
        return (self._s16(b, 6) * k, self._s16(b, 8) * k, self._s16(b, 10) * k)
