"""Millisecond/microsecond tick counters with MicroPython's wrap-around semantics, on any Python.

On MicroPython these are `time.ticks_*`. On CPython they are emulated over a 2^30 period
(MicroPython's TICKS_PERIOD) so code that is correct here is correct on a board, where the
counters wrap every ~12.4 days. The simulated clocks (hal.sim.buses.clock: `VirtualClock`, which the
twin injects to run faster than real time, and `ScaledCpuClock`) are the simulator's.
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
    """The board's own clock, with the interface of hal.sim.buses.clock.VirtualClock."""

    def ticks_ms(self):
        return ticks_ms()

    def ticks_us(self):
        return ticks_us()

    def sleep_ms(self, ms):
        sleep_ms(ms)
