"""Simulated burn wire: the restraint melts after `melt_ms` of continuous current, which flows
only while both the enable and the fire line are high; the deployment switch then reads
deployed. Heating restarts from zero after the current stops (a conservative model: a wire
that cooled must heat again).

Faults: `open_circuit` (broken wire: never melts), `switch_stuck` (the switch never moves,
so the driver sees FAILED although the antenna is out: operators must see both).
"""

from hal.sim.buses.live_pin import LivePin


class SimBurnWire:
    def __init__(self, enable_pin, fire_pin, clock, melt_ms=2500, deployed_level=1, sense_id="deploy_sw"):
        self.enable_pin = enable_pin
        self.fire_pin = fire_pin
        self.clock = clock
        self.melt_us = melt_ms * 1000
        self.deployed_level = 1 if deployed_level else 0
        self.open_circuit = False
        self.switch_stuck = False
        self.released = False
        self.energised_us = 0  # total time with current flowing, for power accounting
        self._on_since = None
        self.sense_pin = LivePin(sense_id, self.update)
        self.sense_pin.drive(1 - self.deployed_level)
        enable_pin.listeners.append(self._on_pin)
        fire_pin.listeners.append(self._on_pin)

    def current_flowing(self):
        if self.open_circuit or self.released:
            return False
        return bool(self.enable_pin.value() and self.fire_pin.value())

    def _on_pin(self, pin, level):
        self.update()
        if self.current_flowing():
            if self._on_since is None:
                self._on_since = self.clock.ticks_us()
        elif self._on_since is not None:
            self.energised_us += self._elapsed()
            self._on_since = None

    def _elapsed(self):
        d = self.clock.ticks_us() - self._on_since
        return d + (1 << 30) if d < 0 else d

    def update(self):
        if self._on_since is None or self.released:
            return
        if self._elapsed() >= self.melt_us:
            self.released = True  # the wire keeps its heat history no further: the tie is cut
            self.energised_us += self.melt_us
            self._on_since = None
            if not self.switch_stuck:
                self.sense_pin.drive(self.deployed_level)
