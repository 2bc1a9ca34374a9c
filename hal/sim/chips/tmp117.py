"""TI TMP117 model: result register in 7.8125 mdegC LSB, data-ready flag cleared on read."""

try:
    from micropython import const
except ImportError:  # CPython: a board never loads this
    from protocols._const import const

from hal.sim.chips.base import Register16Chip

# registers and fields, datasheet SNOSD82 register map (as hal.drivers.tmp117 names them)
_TEMP_RESULT = const(0x00)
_CONFIGURATION = const(0x01)
_DEVICE_ID = const(0x0F)
_TEMP_POR = const(0x8000)  # -256 degC marker until the first conversion
_CONFIG_POR = const(0x0220)  # continuous conversion, 1 s cycle, 8 averages
_DEVICE_ID_POR = const(0x0117)  # REV 0, DID 0x117
_DATA_READY = const(0x2000)  # Configuration Data_Ready, cleared when Configuration is read


class SimTMP117(Register16Chip):
    def __init__(self, celsius):
        self.celsius = celsius
        self.converting = True
        super().__init__()

    def power_on_values(self):
        self.words[_TEMP_RESULT] = _TEMP_POR
        self.words[_CONFIGURATION] = _CONFIG_POR
        self.words[_DEVICE_ID] = _DEVICE_ID_POR

    def convert(self):
        raw = int(round(self.celsius() / 0.0078125))
        self.words[_TEMP_RESULT] = raw & 0xFFFF
        self.words[_CONFIGURATION] |= _DATA_READY

    def refresh(self, reg):
        if self.converting and not self.words[_CONFIGURATION] & _DATA_READY:
            self.convert()

    def read(self, reg, n):
        out = super().read(reg, n)
        if reg == _CONFIGURATION:
            self.words[_CONFIGURATION] &= ~_DATA_READY & 0xFFFF
        return out
