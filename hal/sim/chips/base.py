"""Shared machinery of simulated I2C chips: a register file with per-register hooks."""


class PoweredChip:
    """Power behaviour every simulated chip shares: brown-out makes it vanish from the bus, power-up
    brings it back with its power-on register values (what drivers must recover from)."""

    powered = True

    def reset(self):
        raise NotImplementedError

    def power_on_values(self):
        pass

    def brown_out(self):
        self.powered = False

    def power_up(self):
        self.powered = True
        self.reset()

    def refresh(self, reg):
        """Called before a register is read (update data from the environment)."""

    def on_write(self, reg, value):
        """Called after a register was written."""


class RegisterChip(PoweredChip):
    """256 8-bit registers; subclasses refresh data registers on read and react to writes.

    `powered = False` makes the chip vanish from the bus (brown-out); `reset()` restores the
    power-on register values, as a real chip does after a brown-out.
    """

    AUTO_INCREMENT = True
    WIDTH = 1  # bytes per register address (2 for TI parts with 16-bit registers)

    def __init__(self):
        self.regs = bytearray(256 * self.WIDTH)
        self.powered = True
        self.writes = 0
        self.reset()

    def reset(self):
        for i in range(len(self.regs)):
            self.regs[i] = 0
        self.power_on_values()

    def read(self, reg, n):
        out = bytearray(n)
        for i in range(n):
            r = (reg + i) & 0xFF if self.AUTO_INCREMENT else reg
            self.refresh(r)
            out[i] = self.regs[r]
        return out

    def write(self, reg, data):
        self.writes += 1
        for i in range(len(data)):
            r = (reg + i) & 0xFF if self.AUTO_INCREMENT else reg
            self.regs[r] = data[i]
            self.on_write(r, data[i])


class Register16Chip(PoweredChip):
    """TI-style chips: 8-bit pointer, 16-bit big-endian registers, no auto-increment."""

    def __init__(self):
        self.words = [0] * 256
        self.powered = True
        self.reset()

    def reset(self):
        self.words = [0] * 256
        self.power_on_values()

    def read(self, reg, n):
        self.refresh(reg)
        w = self.words[reg & 0xFF]
        out = bytearray(n)
        for i in range(n):
            out[i] = (w >> 8) & 0xFF if i % 2 == 0 else w & 0xFF
        return out

    def write(self, reg, data):
        if len(data) >= 2:
            value = (data[0] << 8) | data[1]
            self.words[reg & 0xFF] = value
            self.on_write(reg & 0xFF, value)
