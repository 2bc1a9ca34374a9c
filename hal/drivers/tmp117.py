"""TI TMP117 digital thermometer on I2C (datasheet SNOSD82): +-0.1 degC, 7.8125 mdegC/LSB."""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal import drivers as _reg
from hal.errors import DeviceNotFoundError, DeviceTimeoutError

_TEMP_RESULT = const(0x00)
_CONFIGURATION = const(0x01)  # HIGH_Alert LOW_Alert Data_Ready EEPROM_Busy MOD[1:0] CONV[2:0] ...
_DEVICE_ID = const(0x0F)  # REV[3:0] DID[11:0]

# register fields (datasheet register map: Configuration, Device_ID registers)
_DATA_READY = const(0x2000)  # Configuration Data_Ready (bit 13): a conversion completed
_DID_MASK = const(0x0FFF)  # Device_ID DID[11:0]
_DID = const(0x117)
_TEMP_POR = const(0x8000)  # Temp_Result before the first conversion completes
_CONV_MS = const(16)  # poll period: the shortest conversion cycle is 15.5 ms


class TMP117:
    def __init__(self, i2c, address=0x48):
        self.i2c = i2c
        self.address = address
        try:
            ident = _reg.read_u16(i2c, address, _DEVICE_ID) & _DID_MASK
        except OSError as exc:
            raise DeviceNotFoundError("TMP117@0x%02X" % address, "no answer (%s)" % exc) from None
        if ident != _DID:
            raise DeviceNotFoundError("TMP117@0x%02X" % address, "device ID 0x%03X, expected 0x117" % ident)

    def data_ready(self):
        return bool(_reg.read_u16(self.i2c, self.address, _CONFIGURATION) & _DATA_READY)

    def temperature(self, clock=None, timeout_ms=1000):
        """Degrees Celsius; with a clock, waits (bounded) for a fresh conversion first."""
        waited = 0
        while clock is not None and not self.data_ready():
            if waited >= timeout_ms:
                raise DeviceTimeoutError("TMP117", "data ready", waited)
            clock.sleep_ms(_CONV_MS)
            waited += _CONV_MS
        raw = _reg.read_u16(self.i2c, self.address, _TEMP_RESULT)
        if raw == _TEMP_POR:
            raise DeviceTimeoutError("TMP117", "first conversion", waited)
        return (raw - 65536 if raw & 0x8000 else raw) * 0.0078125
