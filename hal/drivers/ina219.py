"""TI INA219 bus voltage / shunt current / power monitor on I2C (datasheet SBOS448, section 8.6).

pm = INA219(i2c, shunt_ohms=0.1, max_current_a=2.0)
pm.bus_voltage(), pm.current(), pm.power()      # V, A, W
"""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal import drivers as _reg
from hal.errors import ConfigError, DeviceNotFoundError

_CONFIG = const(0x00)  # RST - BRNG PG[1:0] BADC[3:0] SADC[3:0] MODE[2:0]
_SHUNT_VOLTAGE = const(0x01)
_BUS_VOLTAGE = const(0x02)  # BD[12:0] - CNVR OVF
_POWER = const(0x03)
_CURRENT = const(0x04)
_CALIBRATION = const(0x05)  # FS[15:1] -

# register fields, section 8.6 (Configuration, Bus Voltage, Calibration)
_RST = const(0x8000)  # Configuration RST: reset every register to its power-on value
_POR_CONFIG = const(0x399F)  # 32 V range, /8 gain, 12-bit ADCs, shunt and bus continuous
_BD_SHIFT = const(3)  # Bus Voltage BD[12:0] in bits 15:3
_OVF = const(0x01)  # Bus Voltage OVF: the power or current calculation overflowed
_CAL_MASK = const(0xFFFE)  # Calibration FS[15:1]: bit 0 is read-only


class INA219:
    def __init__(self, i2c, address=0x40, shunt_ohms=0.1, max_current_a=2.0):
        if shunt_ohms <= 0 or max_current_a <= 0:
            raise ConfigError("INA219 needs a positive shunt and maximum current")
        self.i2c = i2c
        self.address = address
        # current LSB rounded up to a round number of uA, calibration per datasheet equation 1
        lsb = max_current_a / 32768
        self.current_lsb = (int(lsb * 1e6) + 1) / 1e6
        self.calibration = int(0.04096 / (self.current_lsb * shunt_ohms))
        if self.calibration > _CAL_MASK:
            raise ConfigError("INA219 calibration %d does not fit 16 bits" % self.calibration)
        self.power_lsb = 20 * self.current_lsb
        self.configure()

    def configure(self):
        try:
            _reg.write_u16(self.i2c, self.address, _CONFIG, _RST)
            config = _reg.read_u16(self.i2c, self.address, _CONFIG)
        except OSError as exc:
            raise DeviceNotFoundError("INA219@0x%02X" % self.address, "no answer (%s)" % exc) from None
        if config != _POR_CONFIG:  # the reset value identifies the part
            raise DeviceNotFoundError("INA219@0x%02X" % self.address, "config 0x%04X after reset" % config)
        _reg.write_u16(self.i2c, self.address, _CALIBRATION, self.calibration & _CAL_MASK)

    def shunt_voltage(self):
        raw = _reg.read_u16(self.i2c, self.address, _SHUNT_VOLTAGE)
        return (raw - 65536 if raw & 0x8000 else raw) * 10e-6

    def bus_voltage(self):
        raw = _reg.read_u16(self.i2c, self.address, _BUS_VOLTAGE)
        if raw & _OVF:
            raise OverflowError("INA219 math overflow: current beyond the calibrated range")
        return (raw >> _BD_SHIFT) * 4e-3  # 4 mV/LSB

    def current(self):
        raw = _reg.read_u16(self.i2c, self.address, _CURRENT)
        return (raw - 65536 if raw & 0x8000 else raw) * self.current_lsb

    def power(self):
        return _reg.read_u16(self.i2c, self.address, _POWER) * self.power_lsb
