"""Heater hysteresis and priority load shedding."""

from _check import raises

from flight.power import LoadShedder
from flight.thermal import HeaterController


def test_heater_hysteresis_does_not_chatter():
    h = HeaterController(on_below_c=0.0, off_above_c=5.0)
    temps = [10, 4, 1, -0.5, 2, 4.9, 5.1, 3, 0.5, -1]
    states = [h.update(t, 1.0) for t in temps]
    assert states == [False, False, False, True, True, True, False, False, False, True]
    assert h.switches == 3


def test_heater_off_on_sensor_fault_and_duty_cap():
    h = HeaterController(0.0, 5.0, max_duty_s=3.0)
    assert h.update(-10, 1.0) and h.update(-10, 1.0) and h.update(-10, 1.0)
    assert not h.update(-10, 1.0)  # 3 s on: forced rest
    assert h.update(-10, 1.0)
    assert not h.update(None, 1.0) and h.sensor_faults == 1
    raises(ValueError, HeaterController, 5.0, 5.0)


def test_load_shedding_by_priority_with_recovery_margin():
    shed = LoadShedder({"obc": 0, "radio_rx": 0, "payload": 2, "heater": 2, "adcs": 1})
    assert all(shed.update(0.8).values())
    s = shed.update(0.25)  # below 30 %: priorities >= 2 off
    assert not s["payload"] and not s["heater"] and s["adcs"] and s["obc"]
    s = shed.update(0.10)  # below 15 %: priorities >= 1 off too
    assert not s["adcs"] and s["obc"] and s["radio_rx"]
    s = shed.update(0.17)  # above 15 % but not by the margin: stay shed
    assert not s["adcs"]
    s = shed.update(0.21)  # 15 % + 5 %: adcs back, payload still off (below 30 % + 5 %)
    assert s["adcs"] and not s["payload"]
    s = shed.update(0.36)
    assert all(s.values())
    assert [e[2] for e in shed.events] == [2, 1, 2, None]
