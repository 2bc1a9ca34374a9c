"""Spacecraft modes BOOT -> SAFE -> DETUMBLE -> NOMINAL, commanded and autonomous.

Commanded transitions follow ALLOWED (an operator cannot jump SAFE -> NOMINAL while the
spacecraft may still tumble); `override` (a hazardous command) and FDIR may force any mode.
Every change calls `on_change(old, new, reason)` (event + audit record).

A component (flight/commands.py): it runs mode_set and mode_override; `app` (the wiring sets it)
says whether the spacecraft has detumbled, which NOMINAL needs.
"""

from flight.dictionary import FAIL, MODE_NAMES, MODES
from flight.errors import CommandError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

BOOT = MODES["BOOT"]
SAFE = MODES["SAFE"]
DETUMBLE = MODES["DETUMBLE"]
NOMINAL = MODES["NOMINAL"]
REASON_COMMAND = 0
REASON_AUTO = 1
REASON_FDIR = 2
# failure reasons: numbers of flight/dictionary.py's table (no string on the board)
_R_MODE_TRANSITION = const(12)
_R_NOT_DETUMBLED = const(13)

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

    def task(self):
        """The autonomous transitions: BOOT -> SAFE, SAFE -> DETUMBLE once charged (and dwelt, and
        the link not lost), DETUMBLE -> NOMINAL once detumbled."""
        app = self.app
        p = app.params
        if self.mode == BOOT:
            self.set(SAFE, REASON_AUTO)
        elif self.mode == SAFE:
            soc = app.power.soc
            if (
                p["fdir.auto_recover"] >= 0.5
                and soc is not None
                and soc > p["fdir.soc_recover"]
                and self.time_in_mode() >= p["safe.dwell_s"]
                and app.fdir.silence_stage < 2
            ):
                self.set(DETUMBLE, REASON_AUTO)
        elif self.mode == DETUMBLE:
            if app.adcs.detumbled():
                self.set(NOMINAL, REASON_AUTO)

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "mode":
            return self.mode
        raise KeyError(name)

    # --- commands ---------------------------------------------------------------------------
    def tc_check(self, name, v):
        if name != "mode_set":  # mode_override: hazardous, and bypasses these checks
            return
        if not self.allowed(v[0]):
            raise CommandError(
                FAIL["WRONG_MODE"],
                "%s -> %s not allowed" % (MODE_NAMES[self.mode], MODE_NAMES[v[0]]),
                _R_MODE_TRANSITION,
            )
        if v[0] == NOMINAL and self.mode != NOMINAL and not self.app.adcs.detumbled():
            raise CommandError(
                FAIL["INTERLOCK"], "still tumbling: NOMINAL needs a completed detumble", _R_NOT_DETUMBLED
            )

    def tc_mode_set(self, v):
        self.set(v[0], REASON_COMMAND)

    tc_mode_override = tc_mode_set  # the same change: only its check (none) and authority differ
