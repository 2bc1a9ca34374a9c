"""The telemetry services of the flight application, one component (flight/commands.py):
PUS-3 housekeeping (the dictionary's sets, periodic and one-shot: SID, then each value in its
TM_TYPES format), PUS-9 time reports and time setting, PUS-17 connection test; each report packed by
its service's codec (protocols/pus_3_hk.py, pus_9_time.py, pus_17_test.py).

    tm = Telemetry(app)     # app: the FlightApp whose values it reports
    tm.task()               # the housekeeping task, once a control cycle
    tm.report(sid)          # one TM(3,25) now

NaN for a value not measured (yet).
"""

import struct

from flight.dictionary import FAIL, HK_SETS, TM_TYPES
from flight.errors import CommandError
from protocols import pus_3_hk as hk

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

# a housekeeping set's schedule, Telemetry.sets[sid]: [period (control cycles), enabled, cycles to go]
HK_PERIOD = const(0)
HK_ENABLED = const(1)
HK_COUNTDOWN = const(2)
_R_ARG_1 = const(24)  # a failure reason of flight/dictionary.py's table


class Telemetry:
    time_rate_exp = None  # a time report every 2^n housekeeping cycles (TC 9,1); None: none

    def __init__(self, app):
        self.app = app
        # the sets' first reports one second apart from the second after boot, not all in the
        # first tick (which already changes mode)
        self.sets = {sid: [s[1], s[2], i + 1] for i, (sid, s) in enumerate(HK_SETS.items())}
        self.cycles = 0

    # --- commands ---------------------------------------------------------------------------
    def tc_check(self, name, v):
        if name[:3] == "hk_" and v[0] not in HK_SETS:
            raise CommandError(FAIL["UNKNOWN_ID"], "no housekeeping set %d" % v[0], _R_ARG_1)

    def tc_ping(self, v):
        self.app.report_once("pus_17_test")

    def tc_hk_enable(self, v, on=1):
        st = self.sets[v[0]]
        st[HK_ENABLED] = on
        st[HK_COUNTDOWN] = 1  # report at the next cycle

    def tc_hk_disable(self, v):
        self.tc_hk_enable(v, 0)

    def tc_hk_oneshot(self, v):
        self.report(v[0])

    def tc_hk_interval(self, v):
        st = self.sets[v[0]]
        st[HK_PERIOD] = v[1]
        st[HK_COUNTDOWN] = min(st[HK_COUNTDOWN], v[1])

    def tc_time_report(self, v):
        self.time_rate_exp = v[0]
        self._time()

    def tc_time_set(self, v):
        app = self.app
        app.time_offset += v[0] - app.obt()

    # --- the housekeeping task ----------------------------------------------------------------
    def task(self):
        self.cycles += 1
        for sid, st in self.sets.items():
            if not st[HK_ENABLED]:
                continue
            st[HK_COUNTDOWN] -= 1
            if st[HK_COUNTDOWN] <= 0:
                st[HK_COUNTDOWN] = st[HK_PERIOD]
                self.report(sid)
        exp = self.time_rate_exp
        if exp is not None and self.cycles % (1 << exp) == 0:
            self._time()

    def _time(self):
        self.app.report_once("pus_9_time", self.app.stamp())

    def value(self, name):
        """The software's own health and time (a component's housekeeping values: every component
        answers its names by `value(name)` and raises KeyError for any other)."""
        app = self.app
        if name == "obt_s":
            return int(app.obt())
        if name == "uptime_s":
            return int(app.uptime())
        if name == "heap_free":
            return app.heap_free
        if name == "boot_count":
            return app.boot.count & 0xFFFF
        if name == "reset_cause":
            return app.boot.cause
        if name == "cmd_ok":
            return app.dispatcher.ok & 0xFFFF
        if name == "cmd_fail":
            return app.dispatcher.failed & 0xFFFF
        if name == "task_errors":
            return app.executive.errors() & 0xFFFF
        if name == "overruns":
            return app.executive.overruns() & 0xFFFF
        if name == "audit_seq":
            return app.audit.seq
        if name == "audit_head":
            return app.audit.head_u32()
        raise KeyError(name)

    def wire(self, parts):
        """Lay out each set's report from the components whose values it holds (`parts`: the
        first whose value(name) answers owns the name; a part without `value` has none); before
        the first report."""
        self.layouts = {sid: _layout(sid, parts) for sid in HK_SETS}

    def report(self, sid):
        # each set's report is packed into a buffer of its own (formats and offsets from the
        # dictionary): a report allocates only the values and the packet
        buf, fields = self.layouts[sid]
        for i in range(0, len(fields), 4):
            struct.pack_into(fields[i + 2], buf, fields[i + 3], fields[i].value(fields[i + 1]))
        self.app.emit(hk.SERVICE, hk.REPORT, buf)


# the struct formats, one string each: a format built per field would be a heap string per field
_FORMATS = {"B": ">B", "H": ">H", "I": ">I", "f": ">f"}


def _owner(name, parts):
    for part in parts:
        value = getattr(part, "value", None)  # a component without housekeeping values has none
        if value is None:
            continue
        try:
            value(name)
            return part
        except KeyError:
            pass
    raise KeyError("no component has the housekeeping value " + name)


def _layout(sid, parts):
    # (report buffer, (component, name, struct format, offset, ...)), made once at boot: no tick
    # pays; flat, not a tuple per field (32 B each on a board)
    fields = []
    offset = hk.VALUES
    for name in HK_SETS[sid][3]:
        fmt = _FORMATS[TM_TYPES.get(name, "f")]
        fields += (_owner(name, parts), name, fmt, offset)
        offset += struct.calcsize(fmt)
    return hk.new_report(sid, offset - hk.VALUES), tuple(fields)
