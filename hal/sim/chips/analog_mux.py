"""Simulated 74HC4051 8:1 analog multiplexer: `output()` is the voltage (fraction of the ADC's
full scale) on the common pin, given the select and enable pins at that moment; pass it as the
`source` of a SimADC. The ADC's sample-and-hold memory is modelled too: the first conversion
after the channel changes still reads part of the previous channel (`holdover`).

Faults: `stuck_select[bit] = level` (a select line broken or shorted), `open_channel` (an
input that floats: reads `float_level`)."""


class SimAnalogMux:
    def __init__(self, select_pins, sources, enable_pin=None, holdover=0.5, float_level=0.0):
        self.select_pins = select_pins
        self.sources = sources  # callables, one per channel (None = unconnected)
        self.enable_pin = enable_pin
        self.holdover = holdover
        self.float_level = float_level
        self.stuck_select = {}
        self.open_channel = None
        self._last_channel = None
        self._held = 0.0

    def channel(self):
        index = 0
        for bit in range(len(self.select_pins)):
            level = self.stuck_select.get(bit, self.select_pins[bit].value())
            index |= (1 if level else 0) << bit
        return index

    def _input(self, index):
        if self.enable_pin is not None and self.enable_pin.value():
            return self.float_level  # disabled: every switch open
        if index == self.open_channel or index >= len(self.sources) or self.sources[index] is None:
            return self.float_level
        return self.sources[index]()

    def output(self):
        index = self.channel()
        value = self._input(index)
        if self._last_channel is not None and index != self._last_channel:
            value = self.holdover * self._held + (1.0 - self.holdover) * value
        self._last_channel = index
        self._held = value
        return value
