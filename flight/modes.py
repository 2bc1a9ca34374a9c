"""Spacecraft modes BOOT -> SAFE -> DETUMBLE -> NOMINAL, commanded and autonomous.

Commanded transitions follow ALLOWED (an operator cannot jump SAFE -> NOMINAL while the
spacecraft may still tumble); `override` (a hazardous command) and FDIR may force any mode.
Every change calls `on_change(old, new, reason)` (event + audit record).
"""

from flight.dictionary import MODES

BOOT = MODES["BOOT"]
SAFE = MODES["SAFE"]
DETUMBLE = MODES["DETUMBLE"]
NOMINAL = MODES["NOMINAL"]
REASON_COMMAND = 0
REASON_AUTO = 1
REASON_FDIR = 2

ALLOWED = {
    BOOT: (SAFE,),
    SAFE: (DETUMBLE,),
    DETUMBLE: (SAFE, NOMINAL),
    NOMINAL: (SAFE, DETUMBLE),
}


class ModeManager:
    def __init__(self, now, on_change=None):
        self.now = now  # seconds (monotonic)
        self.on_change = on_change
        self.mode = BOOT
        self.since = now()
        self.transitions = 0

    def allowed(self, new):
        return new == self.mode or new in ALLOWED[self.mode]

    def time_in_mode(self):
        return self.now() - self.since

    def set(self, new, reason):
        """Change mode unconditionally (callers check `allowed` for commanded changes)."""
        if new == self.mode:
            return False
        old = self.mode
        self.mode = new
        self.since = self.now()
        self.transitions += 1
        if self.on_change is not None:
            self.on_change(old, new, reason)
        return True
