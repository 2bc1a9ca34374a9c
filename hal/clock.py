"""Millisecond/microsecond tick counters with MicroPython's wrap-around semantics, on any Python.

On MicroPython these are `time.ticks_*`. On CPython they are emulated over a 2^30 period
(MicroPython's TICKS_PERIOD) so code that is correct here is correct on a board, where the
counters wrap every ~12.4 days. `VirtualClock` is what the twin injects to run faster than
real time: it only moves when the simulation advances it.
"""

import time

TICKS_PERIOD = 1 << 30
_TICKS_MAX = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD // 2


def ticks_add(ticks, delta):
    return (ticks + delta) & _TICKS_MAX


def ticks_diff(end, start):
    """Signed difference end - start, correct across one wrap."""
    return ((end - start + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF


if hasattr(time, "ticks_ms"):  # MicroPython
    ticks_ms = time.ticks_ms
    ticks_us = time.ticks_us
    sleep_ms = time.sleep_ms
else:

    def ticks_ms():
        return (time.monotonic_ns() // 1000000) & _TICKS_MAX

    def ticks_us():
        return (time.monotonic_ns() // 1000) & _TICKS_MAX

    def sleep_ms(ms):
        time.sleep(ms / 1000)


class RealClock:
    """The board's own clock, with the VirtualClock interface."""

    def ticks_ms(self):
        return ticks_ms()

    def ticks_us(self):
        return ticks_us()

    def sleep_ms(self, ms):
        sleep_ms(ms)


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
        self._src = source if source is not None else ticks_us
        self._last = self._src()
        self._us = 0.0

    def ticks_us(self):
        now = self._src()
        self._us = (self._us + ticks_diff(now, self._last) * self.factor) % TICKS_PERIOD
        self._last = now
        return int(self._us) & _TICKS_MAX
