"""8:1 analog multiplexer (74HC4051 / CD4051B) in front of one ADC input.

    mux = AnalogMux(machine.ADC(26), (Pin(2, Pin.OUT), Pin(3, Pin.OUT), Pin(6, Pin.OUT)))
    faces = [mux.channel(i) for i in range(6)]      # each has read_u16(), like machine.ADC
    css = CoarseSunSensor(faces)                     # six photodiodes on an RP2040 (4 ADC pins)
    mux.check(7, 32768, 2000)                        # channel 7 wired to Vref/2: select lines OK?

Select lines S0..S2 pick the channel (S0 is the least significant bit); the optional enable
pin is active low. After the channel changes, the first conversion is thrown away by default:
the ADC's sample-and-hold capacitor still holds charge from the previous channel, which a
high-impedance source (a photodiode with a large load resistor) cannot swamp in one sample.
A stuck or broken select line is invisible in normal readings, so wire a reference voltage to
a spare channel and call `check()` from the health monitor.
"""

from hal.errors import ConfigError


class MuxChannel:
    """One mux input seen as an ADC (read_u16)."""

    def __init__(self, mux, index):
        self.mux = mux
        self.index = index

    def read_u16(self):
        return self.mux.read_u16(self.index)


class AnalogMux:
    def __init__(self, adc, select_pins, enable_pin=None, discard_first=True):
        if not 1 <= len(select_pins) <= 3:
            raise ConfigError("analog mux needs 1..3 select pins, got %d" % len(select_pins))
        self.adc = adc
        self.select_pins = select_pins
        self.enable_pin = enable_pin
        self.discard_first = discard_first
        self.channels = 1 << len(select_pins)
        self._current = -1
        self.switches = 0
        if enable_pin is not None:
            enable_pin.value(0)  # active low: on
        self.select(0)

    def select(self, index):
        if not 0 <= index < self.channels:
            raise ConfigError("analog mux has channels 0..%d, got %r" % (self.channels - 1, index))
        if index == self._current:
            return False
        for bit in range(len(self.select_pins)):
            self.select_pins[bit].value((index >> bit) & 1)
        self._current = index
        self.switches += 1
        return True

    def read_u16(self, index):
        if self.select(index) and self.discard_first:
            self.adc.read_u16()
        return self.adc.read_u16()

    def channel(self, index):
        if not 0 <= index < self.channels:
            raise ConfigError("analog mux has channels 0..%d, got %r" % (self.channels - 1, index))
        return MuxChannel(self, index)

    def enable(self, on=True):
        if self.enable_pin is not None:
            self.enable_pin.value(0 if on else 1)

    def check(self, ref_channel, expected_u16, tolerance_u16):
        """True when the reference channel reads what it is wired to (select lines and ADC work)."""
        got = self.read_u16(ref_channel)
        return abs(got - expected_u16) <= tolerance_u16
