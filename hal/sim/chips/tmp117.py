"""TI TMP117 model: result register in 7.8125 mdegC LSB, data-ready flag cleared on read."""

from hal.sim.chips.base import Register16Chip


class SimTMP117(Register16Chip):
    def __init__(self, celsius):
        self.celsius = celsius
        self.converting = True
        super().__init__()

    def power_on_values(self):
        self.words[0x00] = 0x8000  # -256 degC marker until the first conversion
        self.words[0x01] = 0x0220
        self.words[0x0F] = 0x0117

    def convert(self):
        raw = int(round(self.celsius() / 0.0078125))
        self.words[0x00] = raw & 0xFFFF
        self.words[0x01] |= 0x2000

    def refresh(self, reg):
        if self.converting and not self.words[0x01] & 0x2000:
            self.convert()

    def read(self, reg, n):
        out = super().read(reg, n)
        if reg == 0x01:
            self.words[0x01] &= ~0x2000 & 0xFFFF
        return out
