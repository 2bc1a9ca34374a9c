"""Fault injection on every simulated bus: I2C noise, ADC noise and stuck, UART drop and corruption,
and PWM/Pin behaviour a driver relies on."""

from _check import raises

from hal.sim.buses.bus import ETIMEDOUT, Fault, FaultSet, SimADC, SimI2C, SimPin, SimPWM, SimUART
from hal.sim.chips.base import RegisterChip


class _Echo(RegisterChip):
    def power_on_values(self):
        for i in range(16):
            self.regs[i] = 0x40 + i


def test_i2c_noise_only_touches_low_bits_and_wears_off():
    faults = FaultSet(seed=11)
    bus = SimI2C({0x10: _Echo()}, faults)
    faults.inject(0x10, Fault(Fault.NOISE, count=1))
    noisy = bus.readfrom_mem(0x10, 0, 16)
    assert noisy != bytes(range(0x40, 0x50))
    for i in range(16):
        assert noisy[i] & 0xFC == (0x40 + i) & 0xFC
    assert bus.readfrom_mem(0x10, 0, 16) == bytes(range(0x40, 0x50))
    assert faults.injected == 1


def test_i2c_timeout_and_scan_skip_faulty_device():
    faults = FaultSet()
    bus = SimI2C({0x10: _Echo(), 0x11: _Echo()}, faults)
    faults.inject(0x11, Fault(Fault.TIMEOUT))
    assert bus.scan() == [0x10]
    exc = raises(OSError, bus.readfrom_mem, 0x11, 0, 1)
    assert exc.args[0] == ETIMEDOUT


def test_adc_noise_has_the_requested_sigma():
    faults = FaultSet(seed=5)
    adc = SimADC(lambda: 0.5, faults, "sun+x")
    faults.inject("sun+x", Fault(Fault.NOISE, value=100))  # sigma 100 LSB
    n, mean, m2 = 0, 0.0, 0.0
    for _ in range(500):
        x = adc.read_u16()
        n += 1
        d = x - mean
        mean += d / n
        m2 += d * (x - mean)
    sigma = (m2 / n) ** 0.5
    assert 85 < sigma < 115 and abs(mean - 32768) < 15
    faults.inject("sun+x", Fault(Fault.STUCK, value=4095))
    assert adc.read_u16() == 4095


def test_uart_drop_and_corruption():
    faults = FaultSet(seed=3)
    a, b = SimUART.pair(faults)
    a.write(b"hello")
    assert b.read() == b"hello"
    faults.inject("a", Fault(Fault.DROP, count=1))
    a.write(b"lost")
    assert b.any() == 0 and b.read() is None
    faults.inject("a", Fault(Fault.BITFLIP, count=1))
    a.write(b"\x00" * 8)
    got = b.read()
    assert len(got) == 8 and got != b"\x00" * 8
    b.write(b"back")
    buf = bytearray(8)
    assert a.readinto(buf) == 4 and bytes(buf[:4]) == b"back"


def test_pin_irq_and_pwm_limits():
    seen = []
    pin = SimPin(21, SimPin.IN)
    pin.irq(lambda p: seen.append(p.value()), SimPin.IRQ_RISING)
    pin.drive(1)
    pin.drive(0)
    pin.drive(1)
    assert seen == [1, 1]
    pwm = SimPWM()
    raises(ValueError, pwm.duty_u16, 70000)
    pwm.duty_u16(1234)
    pwm.deinit()
    assert pwm.duty_u16() == 0
