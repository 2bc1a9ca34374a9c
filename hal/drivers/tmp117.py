"""TI TMP117 digital thermometer on I2C (datasheet SNOSD82): +-0.1 degC, 7.8125 mdegC/LSB."""

try:
    from micropython import const
except ImportError:

    def const(x):
        return x


from hal.errors import DeviceNotFoundError, DeviceTimeoutError

_TEMP = const(0x00)
_CONFIG = const(0x01)
_DEVICE_ID = const(0x0F)
_DATA_READY = const(0x2000)


class TMP117:
    def __init__(self, i2c, address=0x48):
        self.i2c = i2c
        self.address = address
        self._buf = bytearray(2)
        try:
            ident = self._read(_DEVICE_ID) & 0x0FFF
        except OSError as exc:
            raise DeviceNotFoundError("TMP117@0x%02X" % address, "no answer (%s)" % exc) from None
        if ident != 0x117:
            raise DeviceNotFoundError("TMP117@0x%02X" % address, "device ID 0x%03X, expected 0x117" % ident)

    def _read(self, reg):
        self.i2c.readfrom_mem_into(self.address, reg, self._buf)
        return (self._buf[0] << 8) | self._buf[1]

    def data_ready(self):
        return bool(self._read(_CONFIG) & _DATA_READY)

    def temperature(self, clock=None, timeout_ms=1000):
        """Degrees Celsius; with a clock, waits (bounded) for a fresh conversion first."""
        waited = 0
        while clock is not None and not self.data_ready():
            if waited >= timeout_ms:
                raise DeviceTimeoutError("TMP117", "data ready", waited)
            clock.sleep_ms(16)
            waited += 16
        raw = self._read(_TEMP)
        if raw == 0x8000:  # the power-on value: no conversion has completed yet
            raise DeviceTimeoutError("TMP117", "first conversion", waited)
        return (raw - 65536 if raw & 0x8000 else raw) * 0.0078125
