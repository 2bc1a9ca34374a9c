"""Magnetorquer coils driven by PWM magnitude + a direction pin (H-bridge), one per axis.

mtq = Magnetorquer(pwm, dir_pin, max_dipole=0.2)
mtq.set_dipole(-0.05)          # A m^2, clamped to +-max_dipole
"""

from hal.errors import ConfigError


class Magnetorquer:
    def __init__(self, pwm, dir_pin, max_dipole, freq_hz=20000):
        if max_dipole <= 0:
            raise ConfigError("magnetorquer max_dipole must be positive")
        self.pwm = pwm
        self.dir_pin = dir_pin
        self.max_dipole = max_dipole
        pwm.freq(freq_hz)
        self.off()

    def set_dipole(self, m):
        """Command a dipole (A m^2); returns the dipole actually commanded after clamping."""
        if m > self.max_dipole:
            m = self.max_dipole
        elif m < -self.max_dipole:
            m = -self.max_dipole
        self.dir_pin.value(1 if m < 0 else 0)
        self.pwm.duty_u16(int(abs(m) / self.max_dipole * 65535 + 0.5))
        return m

    def off(self):
        self.pwm.duty_u16(0)
        self.dir_pin.value(0)


class MagnetorquerSet:
    """Three orthogonal coils: x, y, z."""

    def __init__(self, coils):
        self.coils = coils

    def set_dipole(self, m):
        return (
            self.coils[0].set_dipole(m[0]),
            self.coils[1].set_dipole(m[1]),
            self.coils[2].set_dipole(m[2]),
        )

    def off(self):
        for c in self.coils:
            c.off()
