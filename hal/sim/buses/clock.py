"""Simulated time: the clocks the twin, the emulated board and the benches inject, on any Python.

A board runs hal.clock's real counters and never loads this module.
"""

from hal import clock as _board_clock
from hal.clock import _TICKS_MAX, TICKS_PERIOD, ticks_diff


class VirtualClock:
    """Simulated time in microseconds; sleeping advances it instead of waiting."""

    def __init__(self, start_ms=0):
        self.now_us = start_ms * 1000

    def advance_ms(self, ms):
        self.now_us += int(ms * 1000)

    def advance_us(self, us):
        self.now_us += int(us)

    def seconds(self):
        return self.now_us / 1e6

    def ticks_ms(self):
        return (self.now_us // 1000) & _TICKS_MAX

    def ticks_us(self):
        return self.now_us & _TICKS_MAX

    def sleep_ms(self, ms):
        self.advance_ms(ms)


class ScaledCpuClock:
    """Microseconds on a board `factor` times slower than this interpreter: `ticks_us()` advances by
    the microseconds `source` (this interpreter's ticks_us) advanced, times `factor`. Wrap-safe
    (MicroPython's 2^30 period on both sides). The twin and the unix-port speed run time the flight
    executive with it (docs/board-speed.md)."""

    def __init__(self, factor, source=None):
        self.factor = factor
        self._src = source if source is not None else _board_clock.ticks_us
        self._last = self._src()
        self._us = 0.0

    def ticks_us(self):
        now = self._src()
        self._us = (self._us + ticks_diff(now, self._last) * self.factor) % TICKS_PERIOD
        self._last = now
        return int(self._us) & _TICKS_MAX
