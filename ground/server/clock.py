"""The ground's clocks: the wall clock of a live server, or a simulated one a driver advances.

A server link, its command records and its archive read the time through one of these, so the
same server code runs a live pass (`WALL`) or a simulated day at the twin's speed (`SimClock`,
stepped by `ground.twin_ground`), where "ten seconds" are ten simulated seconds.
"""

from __future__ import annotations

import time as _time
from typing import Protocol


class Clock(Protocol):
    def time(self) -> float:
        """Unix seconds (ground receive time, command and stage times)."""

    def monotonic(self) -> float:
        """Seconds that never go back (timers, silence, deadlines)."""


class WallClock:
    time = staticmethod(_time.time)
    monotonic = staticmethod(_time.monotonic)


WALL = WallClock()


class SimClock:
    """Simulated time: `epoch` Unix seconds at 0, moved on by `advance` (never back)."""

    def __init__(self, epoch: float) -> None:
        self.epoch = epoch
        self.t = 0.0

    def time(self) -> float:
        return self.epoch + self.t

    def monotonic(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock never goes back (advance by %r)" % seconds)
        self.t += seconds
