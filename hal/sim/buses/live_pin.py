"""An input pin whose level the simulation works out when it is read (lazy evaluation).

Simulated chips are evaluated lazily: nothing happens between bus transactions unless the twin
steps them. A driver that only watches a pin (DIO0 of a radio, a deployment switch) would then
wait forever; a LivePin brings its owner up to date first, so polling the pin sees the truth.
"""

from hal.sim.buses.bus import SimPin


class LivePin(SimPin):
    def __init__(self, pin_id, update, level=0):
        SimPin.__init__(self, pin_id, SimPin.IN, level)
        self._update = update

    def value(self, v=None):
        if v is None:
            self._update()
        return SimPin.value(self, v)
