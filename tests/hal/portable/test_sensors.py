"""INA219, TMP117, LSM6DSOX and the coarse sun sensor against their simulated chips."""

import math

from _check import raises

from hal.drivers.ina219 import INA219
from hal.drivers.lsm6dsox import LSM6DSOX
from hal.drivers.sun_sensor import CoarseSunSensor
from hal.drivers.tmp117 import TMP117
from hal.errors import ConfigError, DeviceNotFoundError, DeviceTimeoutError
from hal.sim.buses.bus import Fault, FaultSet, SimADC, SimI2C
from hal.sim.buses.clock import VirtualClock
from hal.sim.chips.ina219 import SimINA219
from hal.sim.chips.lsm6dsox import SimLSM6DSOX
from hal.sim.chips.tmp117 import SimTMP117


def test_ina219_calibration_follows_the_datasheet_example():
    # SBOS448 section 8.5.1 example: 0.1 ohm shunt, 2 A max -> Current_LSB ~61 uA, Cal = 0.04096/(LSB*R)
    bus = SimI2C({0x40: SimINA219(lambda: 7.4, lambda: 0.5)}, FaultSet())
    pm = INA219(bus, shunt_ohms=0.1, max_current_a=2.0)
    assert pm.current_lsb == 62e-6
    assert pm.calibration == int(0.04096 / (62e-6 * 0.1))
    assert abs(pm.bus_voltage() - 7.4) < 0.004
    assert abs(pm.shunt_voltage() - 0.05) < 10e-6
    assert abs(pm.current() - 0.5) < 2 * pm.current_lsb
    assert abs(pm.power() - 3.7) < 0.01


def test_ina219_negative_current_and_overflow():
    amps = [-1.2]
    bus = SimI2C({0x40: SimINA219(lambda: 8.0, lambda: amps[0])}, FaultSet())
    pm = INA219(bus, shunt_ohms=0.1, max_current_a=2.0)
    assert abs(pm.current() + 1.2) < 2 * pm.current_lsb
    amps[0] = 3.1  # beyond the 2 A the calibration was sized for
    raises(OverflowError, pm.bus_voltage)


def test_ina219_identity_and_config_errors():
    raises(DeviceNotFoundError, INA219, SimI2C({}, FaultSet()))
    raises(ConfigError, INA219, SimI2C({}, FaultSet()), 0x40, 0.0)


def test_tmp117_temperature_and_data_ready():
    temp = [21.3]
    chip = SimTMP117(lambda: temp[0])
    chip.converting = False
    t = TMP117(SimI2C({0x48: chip}, FaultSet()))
    clock = VirtualClock()
    raises(DeviceTimeoutError, t.temperature, clock, 100)  # never converts: bounded wait
    assert clock.ticks_ms() >= 100
    chip.converting = True
    assert abs(t.temperature(clock) - 21.3) <= 0.0078125
    temp[0] = -40.0
    assert abs(t.temperature(clock) + 40.0) <= 0.0078125


def test_tmp117_wrong_id_and_first_conversion():
    chip = SimTMP117(lambda: 20.0)
    chip.words[0x0F] = 0x0119
    raises(DeviceNotFoundError, TMP117, SimI2C({0x48: chip}, FaultSet()))
    chip = SimTMP117(lambda: 20.0)
    chip.converting = False
    t = TMP117(SimI2C({0x48: chip}, FaultSet()))
    raises(DeviceTimeoutError, t.temperature)  # 0x8000 power-on marker is not a temperature


def test_lsm6dsox_rates_and_ranges():
    rate = (0.1, -0.2, 0.3)
    chip = SimLSM6DSOX(lambda: rate, lambda: (0.0, 0.0, 9.80665), gyro_density_dps=0.0, accel_density_g=0.0)
    imu = LSM6DSOX(SimI2C({0x6A: chip}, FaultSet()), accel_g=4, gyro_dps=500)
    g = imu.gyro()
    lsb = math.radians(17.5e-3)  # 500 dps range: 17.5 mdps/LSB
    for i in range(3):
        assert abs(g[i] - rate[i]) <= lsb
    a = imu.acceleration()
    assert abs(a[2] - 9.80665) <= 0.122e-3 * 9.80665
    assert imu.data_ready() == (True, True)
    assert chip.regs[0x12] & 0x44 == 0x44  # BDU + IF_INC set by the driver


def test_lsm6dsox_noise_density_per_datasheet():
    chip = SimLSM6DSOX(lambda: (0.0, 0.0, 0.0), lambda: (0.0, 0.0, 0.0))
    imu = LSM6DSOX(SimI2C({0x6A: chip}, FaultSet()), accel_g=2, gyro_dps=250, odr_hz=104)
    n, m2 = 0, 0.0
    for _ in range(300):
        x = imu.acceleration()[0]
        n += 1
        m2 += x * x
    rms_g = math.sqrt(m2 / n) / 9.80665
    expect = 70e-6 * math.sqrt(104 / 2)  # density * sqrt(bandwidth ~ ODR/2): 0.50 mg
    assert 0.8 * expect < rms_g < 1.2 * expect


def test_lsm6dsox_identity_and_faults():
    chip = SimLSM6DSOX(lambda: (0.0, 0.0, 0.0))
    bus = SimI2C({0x6A: chip}, FaultSet())
    imu = LSM6DSOX(bus)
    bus.faults.inject(0x6A, Fault(Fault.NACK, count=1))
    raises(OSError, imu.gyro)
    imu.gyro()  # recovers once the fault clears
    chip.regs[0x0F] = 0x69
    raises(DeviceNotFoundError, imu.configure)
    raises(ConfigError, LSM6DSOX, bus, 0x6A, 3)


def test_sun_sensor_cosine_and_eclipse():
    sun = [(0.6, 0.0, 0.8)]
    faces = ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))
    faults = FaultSet()

    def face(n):
        return lambda: max(0.0, n[0] * sun[0][0] + n[1] * sun[0][1] + n[2] * sun[0][2]) if sun[0] else 0.0

    css = CoarseSunSensor([SimADC(face(n), faults, i) for i, n in enumerate(faces)])
    v = css.sun_vector()
    assert abs(v[0] - 0.6) < 1e-4 and abs(v[2] - 0.8) < 1e-4
    faults.inject(4, Fault(Fault.STUCK, value=0))  # +z photodiode dead
    v = css.sun_vector()
    assert v == (1.0, 0.0, 0.0) or abs(v[0] - 1.0) < 1e-9  # degraded: only +x sees the sun
    faults.clear()
    sun[0] = None
    assert css.sun_vector() is None
