"""Boot record: boot counter and last reset cause, persisted (power-loss safe) across resets.

Reset causes: 0 power-on, 1 watchdog, 2 soft reset, 3 brown-out (MicroPython's
machine.reset_cause() values differ by port; `cause_from_machine` maps them).
"""

import struct

from flight.storage import SlotStore

POWER_ON = 0
WATCHDOG = 1
SOFT = 2
BROWN_OUT = 3


def cause_from_machine():
    try:
        import machine
    except ImportError:
        return POWER_ON
    cause = machine.reset_cause()
    if cause == getattr(machine, "WDT_RESET", -1):
        return WATCHDOG
    if cause == getattr(machine, "SOFT_RESET", -1):
        return SOFT
    if cause == getattr(machine, "BROWNOUT_RESET", -1):
        return BROWN_OUT
    return POWER_ON


class BootRecord:
    def __init__(self, fs, cause):
        self.store = SlotStore(fs, "boot")
        raw = self.store.load()
        count = struct.unpack(">I", raw[:4])[0] if raw and len(raw) >= 4 else 0
        self.count = count + 1
        self.cause = cause
        self.store.save(struct.pack(">IB", self.count, cause))
