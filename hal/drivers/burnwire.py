"""Burn wire (nichrome over a nylon tie-down) for antenna or panel deployment.

    bw = BurnWire(enable_pin, fire_pin, clock, sense_pin=deployed_switch, max_burn_ms=8000)
    bw.start(4000)                 # enable, settle, then burn; never blocks
    state = bw.poll()              # every tick: BURNING ... DEPLOYED / FAILED
    bw.abort()                     # FDIR / low battery

The enable line powers the driver stage and settles for `settle_ms` before the fire line
closes (the PySquared sequence); the burn stops at the first of: the deployment switch reads
deployed, `duration_ms` elapsed (capped at `max_burn_ms`), `abort()`. Both lines are dropped
fire-first. Without a sense switch the outcome is DONE (unknown); with one, a burn that ends
without the switch moving is FAILED, so the mission can retry (`attempts` counts them) or
escalate. A start when the switch already reads deployed does nothing and returns False.
"""

from hal.clock import ticks_diff
from hal.errors import ConfigError, InterlockError

IDLE = 0
SETTLING = 1
BURNING = 2
DONE = 3
DEPLOYED = 4
FAILED = 5
STATE_NAMES = ("IDLE", "SETTLING", "BURNING", "DONE", "DEPLOYED", "FAILED")


class BurnWire:
    def __init__(
        self,
        enable_pin,
        fire_pin,
        clock,
        sense_pin=None,
        deployed_level=1,
        max_burn_ms=8000,
        settle_ms=100,
        name="burnwire",
    ):
        if not isinstance(max_burn_ms, int) or max_burn_ms <= 0:
            raise ConfigError("%s: max_burn_ms must be a positive int, got %r" % (name, max_burn_ms))
        if not isinstance(settle_ms, int) or settle_ms < 0:
            raise ConfigError("%s: settle_ms must be an int >= 0, got %r" % (name, settle_ms))
        self.enable_pin = enable_pin
        self.fire_pin = fire_pin
        self.clock = clock
        self.sense_pin = sense_pin
        self.deployed_level = 1 if deployed_level else 0
        self.max_burn_ms = max_burn_ms
        self.settle_ms = settle_ms
        self.name = name
        self.state = IDLE
        self.attempts = 0
        self.last_burn_ms = 0
        self.total_burn_ms = 0
        self._t = clock.ticks_ms()
        self._duration = 0
        self._off()

    def _off(self):
        self.fire_pin.value(0)
        self.enable_pin.value(0)

    def deployed(self):
        """True/False from the deployment switch, None when there is no switch."""
        if self.sense_pin is None:
            return None
        return self.sense_pin.value() == self.deployed_level

    def active(self):
        return self.state in (SETTLING, BURNING)

    def start(self, duration_ms):
        if not isinstance(duration_ms, int) or not 0 < duration_ms <= self.max_burn_ms:
            raise ConfigError(
                "%s: burn must be 1..%d ms, got %r" % (self.name, self.max_burn_ms, duration_ms)
            )
        if self.active():
            raise InterlockError("%s: burn already in progress" % self.name)
        if self.deployed():
            self.state = DEPLOYED
            return False
        self.attempts += 1
        self._duration = duration_ms
        self.enable_pin.value(1)
        self.state = SETTLING
        self._t = self.clock.ticks_ms()
        return True

    def _finish(self, state):
        self._off()
        if self.state == BURNING:
            self.last_burn_ms = ticks_diff(self.clock.ticks_ms(), self._t)
            self.total_burn_ms += self.last_burn_ms
        self.state = state

    def poll(self):
        """Advance the sequence; returns the state. Never blocks."""
        if self.state == SETTLING:
            if ticks_diff(self.clock.ticks_ms(), self._t) >= self.settle_ms:
                self.fire_pin.value(1)
                self.state = BURNING
                self._t = self.clock.ticks_ms()
        elif self.state == BURNING:
            if self.deployed():
                self._finish(DEPLOYED)
            elif ticks_diff(self.clock.ticks_ms(), self._t) >= self._duration:
                self._finish(FAILED if self.sense_pin is not None else DONE)
        return self.state

    def abort(self):
        self._finish(IDLE)
