"""TI INA219 model: the register arithmetic of datasheet section 8.5 over physical V and I."""

from hal.sim.chips.base import Register16Chip


class SimINA219(Register16Chip):
    def __init__(self, bus_volts, current_amps, shunt_ohms=0.1):
        self.bus_volts = bus_volts
        self.current_amps = current_amps
        self.shunt_ohms = shunt_ohms
        super().__init__()

    def power_on_values(self):
        self.words[0] = 0x399F

    def on_write(self, reg, value):
        if reg == 0 and value & 0x8000:
            self.reset()
        elif reg == 5:
            self.words[5] = value & 0xFFFE

    def refresh(self, reg):
        v_shunt = self.current_amps() * self.shunt_ohms
        shunt_raw = max(-32000, min(32000, int(round(v_shunt / 10e-6))))  # PGA /8: +-320 mV
        self.words[1] = shunt_raw & 0xFFFF
        bus_raw = int(round(self.bus_volts() / 4e-3)) & 0x1FFF
        cal = self.words[5]
        current_raw = (shunt_raw * cal) // 4096 if cal else 0
        ovf = 1 if not -32768 <= current_raw <= 32767 else 0
        self.words[2] = (bus_raw << 3) | 0x2 | ovf  # CNVR set: a conversion completed
        self.words[4] = current_raw & 0xFFFF
        self.words[3] = (abs(current_raw) * bus_raw) // 5000 & 0xFFFF if cal else 0
