"""Board definitions and the simulated board the twin flies."""

from _check import raises

from hal import boards
from hal.drivers.ina219 import INA219
from hal.drivers.lis3mdl import LIS3MDL
from hal.drivers.lsm6dsox import LSM6DSOX
from hal.drivers.magnetorquer import Magnetorquer
from hal.drivers.sun_sensor import CoarseSunSensor
from hal.drivers.tmp117 import TMP117
from hal.sim.env import vec


def test_definitions_are_complete():
    for name in boards.names():  # every real board and the simulated one
        d = boards.definition(name)
        chips = set()
        for bus in d["i2c"].values():
            chips.update(bus["devices"])
        assert {"lis3mdl", "lsm6dsox", "ina219", "tmp117"} <= chips
        assert len(d["magnetorquers"]) == 3 and d["max_dipole"] > 0
    raises(KeyError, boards.definition, "esp32-nope")


def test_sim_twin_board_runs_every_driver_against_the_environment():
    board = boards.open_board("sim-twin")
    d = board.defn
    mag = LIS3MDL(board.i2c(0), d["i2c"][0]["devices"]["lis3mdl"])
    imu = LSM6DSOX(board.i2c(0), d["i2c"][0]["devices"]["lsm6dsox"])
    pm = INA219(board.i2c(1), d["i2c"][1]["devices"]["ina219"])
    th = TMP117(board.i2c(1), d["i2c"][1]["devices"]["tmp117"])
    css = CoarseSunSensor([board.adc(p) for p in d["sun_adc"]])
    env = board.env
    b = mag.magnetic()
    assert 20e-6 < vec.norm(b) < 60e-6
    assert abs(vec.norm(b) - vec.norm(env.b_body)) < 2e-6
    assert abs(pm.bus_voltage() - env.battery.voltage()) < 0.01
    assert abs(th.temperature() - env.payload.celsius()) < 0.01
    assert vec.norm(imu.gyro()) < 0.01
    s = css.sun_vector()
    assert (s is None) == env.eclipse


def test_sim_board_coils_torque_the_body():
    board = boards.open_board("sim-twin")
    mt = board.defn["magnetorquers"][2]
    coil = Magnetorquer(board.pwm(mt["pwm"]), board.pin(mt["dir"]), board.defn["max_dipole"])
    coil.set_dipole(-0.1)
    env = board.env
    env.step(1.0)
    assert env.magnetorquer_dipole == (0.0, 0.0, -0.1) or abs(env.magnetorquer_dipole[2] + 0.1) < 1e-5
    assert vec.norm(env.body.omega) > 0
