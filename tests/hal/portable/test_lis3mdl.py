"""LIS3MDL driver against its simulated chip, including bus faults and a brown-out."""

from _check import raises

from hal.drivers.lis3mdl import LIS3MDL
from hal.errors import ConfigError, DeviceNotFoundError
from hal.sim.buses.bus import ENODEV, Fault, FaultSet, SimI2C
from hal.sim.buses.clock import VirtualClock
from hal.sim.chips.lis3mdl import SimLIS3MDL

FIELD = (21e-6, -13e-6, 40e-6)  # tesla


def _setup(noise=0.0):
    chip = SimLIS3MDL(lambda: FIELD, noise_gauss=noise)
    bus = SimI2C({0x1C: chip}, FaultSet())
    return bus, chip


def test_reads_field_in_tesla_within_one_lsb():
    bus, _ = _setup()
    mag = LIS3MDL(bus)
    b = mag.magnetic()
    lsb = 1e-4 / 6842  # +-4 gauss sensitivity from the datasheet
    for axis in range(3):
        assert abs(b[axis] - FIELD[axis]) <= lsb


def test_scale_changes_the_sensitivity():
    bus, chip = _setup()
    mag = LIS3MDL(bus, scale_gauss=16)
    raw = mag.magnetic_raw()
    assert raw[2] == round(40e-6 * 1e4 * 1711)
    assert (chip.regs[0x21] >> 5) & 3 == 3


def test_noise_matches_the_configured_rms():
    bus, _ = _setup(noise=0.0032)
    mag = LIS3MDL(bus)
    n, mean, m2 = 0, 0.0, 0.0
    for _ in range(400):  # Welford: no list of 400 boxed floats in a 192 KiB heap
        x = mag.magnetic()[0]
        n += 1
        d = x - mean
        mean += d / n
        m2 += d * (x - mean)
    rms = (m2 / n) ** 0.5
    assert 0.25e-6 < rms < 0.40e-6  # 3.2 mgauss = 0.32 uT
    assert abs(mean - FIELD[0]) < 0.1e-6


def test_wrong_identity_and_missing_chip():
    bus, chip = _setup()
    chip.regs[0x0F] = 0x33
    exc = raises(DeviceNotFoundError, LIS3MDL, bus)
    assert "0x33" in str(exc)
    raises(DeviceNotFoundError, LIS3MDL, SimI2C({}, FaultSet()))
    raises(ConfigError, LIS3MDL, bus, 0x1C, 5)


def test_transient_nack_is_retried_permanent_is_raised():
    bus, _ = _setup()
    mag = LIS3MDL(bus)
    bus.faults.inject(0x1C, Fault(Fault.NACK, count=2))
    assert abs(mag.magnetic()[2] - FIELD[2]) < 1e-7
    assert mag.errors == 2
    bus.faults.inject(0x1C, Fault(Fault.NACK))
    exc = raises(OSError, mag.magnetic)
    assert exc.args[0] == ENODEV


def test_timeout_fault_raises_oserror_and_stuck_bus_reads_garbage():
    bus, _ = _setup()
    mag = LIS3MDL(bus, retries=0)
    bus.faults.inject(0x1C, Fault(Fault.TIMEOUT, count=1))
    raises(OSError, mag.magnetic)
    bus.faults.inject(0x1C, Fault(Fault.STUCK, count=1, value=0xFF))
    assert mag.magnetic_raw() == (-1, -1, -1)  # what a stuck-high bus really returns
    assert abs(mag.magnetic()[0] - FIELD[0]) < 1e-7


def test_brown_out_then_reconfigure_recovers():
    bus, chip = _setup()
    mag = LIS3MDL(bus, retries=0)
    chip.brown_out()
    raises(OSError, mag.magnetic)
    chip.power_up()  # back in power-down mode with default registers: output frozen at 0
    assert mag.magnetic_raw() == (0, 0, 0)
    mag.configure()
    assert abs(mag.magnetic()[1] - FIELD[1]) < 1e-7


def test_data_ready_wait_is_bounded():
    bus, chip = _setup()
    mag = LIS3MDL(bus)
    clock = VirtualClock()
    assert mag.wait_ready(clock) == 0
    chip.regs[0x22] = 0x03  # chip fell back to power-down: data-ready never comes
    mag.magnetic_raw()
    from hal.errors import DeviceTimeoutError

    exc = raises(DeviceTimeoutError, mag.wait_ready, clock, 50)
    assert exc.waited_ms == 50 and clock.ticks_ms() == 50
