"""A magnetorquer coil seen through its PWM duty and H-bridge direction pin (the twin of
hal.drivers.magnetorquer.Magnetorquer)."""


class SimMagnetorquer:
    def __init__(self, pwm, dir_pin, max_dipole, failed=False):
        self.pwm = pwm
        self.dir_pin = dir_pin
        self.max_dipole = max_dipole
        self.failed = failed  # an open coil produces no dipole whatever is commanded

    def dipole(self):
        if self.failed:
            return 0.0
        m = self.pwm.duty_u16() / 65535 * self.max_dipole
        return -m if self.dir_pin.value() else m
