"""The real-board factory (hal.boards.open_board on hardware) builds MicroPython `machine` objects
exactly as each board definition says. A recording stand-in for `machine` replaces the board."""

from __future__ import annotations

import sys
import types

import pytest

from hal import boards


class _Recorder:
    calls: list = []

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        _Recorder.calls.append((type(self).__name__, args, kwargs))


def _fake_machine():
    mod = types.ModuleType("machine")

    class Pin(_Recorder):
        IN, OUT = 0, 1

    class I2C(_Recorder):
        pass

    class PWM(_Recorder):
        pass

    class ADC(_Recorder):
        pass

    mod.Pin, mod.I2C, mod.PWM, mod.ADC = Pin, I2C, PWM, ADC
    return mod


@pytest.fixture
def machine(monkeypatch):
    fake = _fake_machine()
    monkeypatch.setitem(sys.modules, "machine", fake)
    monkeypatch.delitem(sys.modules, "hal.boards.machine_board", raising=False)
    _Recorder.calls = []
    return fake


@pytest.mark.parametrize("name", ["rp2040-flight", "samd51-pycubed"])
def test_i2c_buses_use_the_defined_pins_and_clock(machine, name: str) -> None:
    board = boards.open_board(name)
    defn = boards.definition(name)
    for bus_id, bus in defn["i2c"].items():
        i2c = board.i2c(bus_id)
        assert isinstance(i2c, machine.I2C)
        assert i2c.args == (bus_id,)
        assert i2c.kwargs["freq"] == bus["freq"]
        assert i2c.kwargs["scl"].args[0] == bus["scl"] and i2c.kwargs["sda"].args[0] == bus["sda"]
        assert board.i2c(bus_id) is i2c  # one object per bus


def test_actuator_and_sensor_pins(machine) -> None:
    board = boards.open_board("rp2040-flight")
    defn = boards.definition("rp2040-flight")
    mt = defn["magnetorquers"][0]
    pwm = board.pwm(mt["pwm"])
    assert isinstance(pwm, machine.PWM) and pwm.args[0].args[0] == mt["pwm"]
    d = board.pin(mt["dir"])
    assert d.args == (mt["dir"], machine.Pin.OUT)
    adc = board.adc(defn["sun_adc"][0])
    assert isinstance(adc, machine.ADC) and adc.args[0].args[0] == 26


def test_simulated_board_needs_no_machine_module() -> None:
    assert "machine" not in sys.modules or not hasattr(sys.modules["machine"], "I2C")
    board = boards.open_board("sim-twin")
    assert board.i2c(0).scan()  # the simulated chips answer
