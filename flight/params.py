"""PUS-20 onboard parameters: bounds-checked, persisted in a power-loss-safe slot store.

Only the values are stored (id u16, value f32 each); definitions (name, default, bounds) come
from the dictionary, so a new software version with new defaults still loads old storage.
A component (flight/commands.py): it runs param_get and param_set, answered by TM(20,2);
`app` (the wiring sets it) applies a new value and reports it.
"""

import struct

from flight.dictionary import FAIL, PARAM_IDS, PARAMS
from flight.errors import ParamError
from flight.storage import SlotStore

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


# failure reasons (flight/dictionary.py's numbers): the parameter id, the value
_R_ARG_1 = const(24)
_R_ARG_2 = const(25)


class ParamTable:
    def __init__(self, fs, defs=PARAMS, name="params"):
        self.defs = defs
        self.store = SlotStore(fs, name)
        self.values = {pid: float(d[1]) for pid, d in defs.items()}
        self.loaded = 0
        raw = self.store.load()
        if raw:
            for i in range(0, len(raw) - len(raw) % 6, 6):
                pid, value = struct.unpack_from(">Hf", raw, i)
                if pid in defs and defs[pid][2] <= value <= defs[pid][3]:
                    self.values[pid] = value
                    self.loaded += 1

    def tc_param_get(self, v):
        self._report(v[0], self.get(v[0]))

    def tc_param_set(self, v):
        value = self.set(v[0], v[1])
        self.app.apply_params()
        self.app.events.report("PARAM_CHANGED", v[0], value)
        self._report(v[0], value)

    def _report(self, pid, value):
        self.app.report_once("pus_20_param", ((pid, value),))

    def __getitem__(self, name):
        return self.values[PARAM_IDS[name]]

    def get(self, pid):
        if pid not in self.values:
            raise ParamError(FAIL["UNKNOWN_ID"], "no parameter %d" % pid, _R_ARG_1)
        return self.values[pid]

    def check(self, pid, value):
        if pid not in self.defs:
            raise ParamError(FAIL["UNKNOWN_ID"], "no parameter %d" % pid, _R_ARG_1)
        name, _default, lo, hi = self.defs[pid][:4]
        if value != value or not lo <= value <= hi:  # NaN fails too
            raise ParamError(FAIL["ARG_RANGE"], "%s=%r outside %r..%r" % (name, value, lo, hi), _R_ARG_2)
        if name == "thermal.heater_off_c" and value <= self["thermal.heater_on_c"]:
            raise ParamError(FAIL["ARG_RANGE"], "heater off point must be above the on point", _R_ARG_2)
        if name == "thermal.heater_on_c" and value >= self["thermal.heater_off_c"]:
            raise ParamError(FAIL["ARG_RANGE"], "heater on point must be below the off point", _R_ARG_2)
        if name == "fdir.soc_recover" and value <= self["fdir.soc_safe"]:
            raise ParamError(FAIL["ARG_RANGE"], "recovery charge must be above the SAFE threshold", _R_ARG_2)
        if name == "fdir.soc_safe" and value >= self["fdir.soc_recover"]:
            raise ParamError(FAIL["ARG_RANGE"], "SAFE threshold must be below the recovery charge", _R_ARG_2)

    def set(self, pid, value):
        """Check, apply and persist; the value read back is the f32 actually stored."""
        self.check(pid, value)
        value = struct.unpack(">f", struct.pack(">f", value))[0]
        old = self.values[pid]
        self.values[pid] = value
        try:
            self.store.save(self.pack())
        except Exception:
            self.values[pid] = old  # not persisted: not applied
            raise
        return value

    def pack(self):
        out = bytearray()
        for pid in sorted(self.values):
            out += struct.pack(">Hf", pid, self.values[pid])
        return bytes(out)
