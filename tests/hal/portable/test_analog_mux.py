"""74HC4051 analog mux driver against the simulated mux: six sun-sensor photodiodes through one
ADC input (the RP2040 has only four), sample-and-hold settling, and select-line faults caught by
the reference-channel check."""

from _check import raises

from hal.drivers.analog_mux import AnalogMux
from hal.drivers.sun_sensor import CoarseSunSensor
from hal.errors import ConfigError
from hal.sim.bus import SimADC, SimPin
from hal.sim.chips.analog_mux import SimAnalogMux

FACES = ((1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1))
SUN = (0.36, -0.48, 0.8)  # a unit vector


def _rig(discard_first=True, with_enable=False):
    pins = (SimPin("s0"), SimPin("s1"), SimPin("s2"))
    enable = SimPin("en", SimPin.OUT, 1) if with_enable else None
    sources = [(lambda n=n: max(0.0, n[0] * SUN[0] + n[1] * SUN[1] + n[2] * SUN[2])) for n in FACES]
    sources.append(None)  # channel 6 unused
    sources.append(lambda: 0.5)  # channel 7: Vref / 2 for the self-check
    sim = SimAnalogMux(pins, sources, enable)
    adc = SimADC(sim.output)
    return AnalogMux(adc, pins, enable, discard_first), sim


def test_six_faces_through_one_adc_give_the_sun_vector():
    mux, _ = _rig()
    css = CoarseSunSensor([mux.channel(i) for i in range(6)])
    v = css.sun_vector()
    for i in range(3):
        assert abs(v[i] - SUN[i]) < 1e-4
    assert mux.switches == 6


def test_without_discarding_the_first_sample_readings_smear():
    mux, _ = _rig(discard_first=False)
    mux.read_u16(4)  # +Z face: 0.8 of full scale
    smeared = mux.read_u16(1)  # -X face is dark, but the hold capacitor remembers 0.8
    assert smeared > 20000
    clean, _ = _rig()
    clean.read_u16(4)
    assert clean.read_u16(1) == 0


def test_reading_the_same_channel_again_does_not_switch():
    mux, _ = _rig()
    mux.read_u16(2)
    n = mux.switches
    mux.read_u16(2)
    assert mux.switches == n


def test_select_line_fault_is_caught_by_the_reference_channel():
    mux, sim = _rig()
    assert mux.check(7, 32768, 300)
    sim.stuck_select[2] = 0  # S2 broken low: channel 7 reads channel 3 (-Y face)
    assert not mux.check(7, 32768, 300)


def test_enable_pin_is_active_low():
    mux, _ = _rig(with_enable=True)
    assert mux.read_u16(7) == 32768  # driver enabled it (pin low)
    mux.enable(False)
    assert mux.read_u16(7) == 0
    mux.enable(True)
    mux.read_u16(0)
    assert mux.read_u16(7) == 32768


def test_bad_channels_and_pins():
    mux, _ = _rig()
    raises(ConfigError, mux.read_u16, 8)
    raises(ConfigError, mux.channel, -1)
    raises(ConfigError, AnalogMux, SimADC(lambda: 0.0), ())
