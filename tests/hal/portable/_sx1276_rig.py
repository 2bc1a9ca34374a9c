"""Builds simulated SX1276 radios on one SPI bus and one medium (shared by the radio tests)."""

from hal.drivers.sx1276 import SX1276
from hal.drivers.sx1276_blocking import BlockingSX1276
from hal.sim.buses.bus import FaultSet, SimPin
from hal.sim.buses.clock import VirtualClock
from hal.sim.buses.spi import SimSPI
from hal.sim.chips.sx1276 import SimSX1276
from hal.sim.env.radio_medium import RadioMedium


class Rig:
    def __init__(self, loss=0.0, corrupt=0.0, seed=1):
        self.clock = VirtualClock()
        self.faults = FaultSet()
        self.spi = SimSPI(self.faults)
        self.medium = RadioMedium(self.clock, loss=loss, corrupt=corrupt, seed=seed)
        self.chips = {}
        self.pins = {}

    def chip(self, name):
        cs = SimPin("cs_" + name, SimPin.OUT, 1)
        rst = SimPin("rst_" + name, SimPin.OUT, 1)
        chip = SimSX1276(self.clock, self.medium, rst, None, name)  # its DIO0 is a LivePin
        dio0 = chip.dio0
        self.spi.attach(cs, chip)
        self.chips[name] = chip
        self.pins[name] = (cs, rst, dio0)
        return chip

    def radio(self, name, use_dio0=False, **settings):
        if name not in self.chips:
            self.chip(name)
        cs, rst, dio0 = self.pins[name]
        return BlockingSX1276(
            self.spi, cs, reset=rst, clock=self.clock, dio0=dio0 if use_dio0 else None, **settings
        )

    def run_until(self, radio, event, limit_ms=5000, step_ms=1):
        """Poll `radio` as a flight tick would until `event`; returns ms waited or raises."""
        waited = 0
        while waited <= limit_ms:
            got = radio.poll()
            if got == event:
                return waited
            if got != SX1276.NONE:
                raise AssertionError("unexpected event %d while waiting for %d" % (got, event))
            self.clock.advance_ms(step_ms)
            self.medium.update()
            waited += step_ms
        raise AssertionError("event %d not seen in %d ms" % (event, limit_ms))
