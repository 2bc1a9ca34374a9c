"""Housekeeping values of the flight application: what each dictionary parameter reads now, and
PUS-3 reports packed by the dictionary's sets (SID, then each value in its TM_TYPES format).

A mixin of FlightApp (flight/app.py). NaN for a value not measured (yet).
"""

import struct

from flight.dictionary import HK_SETS, TM_TYPES

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

# a housekeeping set's schedule, app._hk[sid]: [period (control cycles), enabled, cycles to go]
HK_PERIOD = const(0)
HK_ENABLED = const(1)
HK_COUNTDOWN = const(2)


class Telemetry:
    def tm_value(self, name):
        s = self.sensors
        if name == "obt_s":
            return int(self.obt())
        if name == "mode":
            return self.modes.mode
        if name == "batt_v":  # NaN: not measured yet (a report before the first control tick)
            return s.batt_v if s.batt_v is not None else float("nan")
        if name == "soc":
            return self.power.soc if self.power.soc is not None else float("nan")
        if name == "solar_w":
            return self._solar_w()
        if name == "sunlit":
            return 1 if s.sun is not None else 0
        if name == "temp_c":
            return s.structure_c if s.structure_c is not None else float("nan")
        if name == "payload_c":
            return s.payload_c if s.payload_c is not None else float("nan")
        if name == "heater":
            return 1 if self.heater.on else 0
        if name == "rate_dps":
            return self.rate_rad_s * 57.29578 if self.rate_rad_s is not None else float("nan")
        if name == "rate_src":
            return self.rate_src
        if name == "sun_angle":
            e = self.sun_pointing.error_deg
            return e if e is not None else float("nan")
        if name == "boot_count":
            return self.boot.count & 0xFFFF
        if name == "reset_cause":
            return self.boot.cause
        if name == "uptime_s":
            return int(self.uptime())
        if name == "cmd_ok":
            return self.dispatcher.ok & 0xFFFF
        if name == "cmd_fail":
            return self.dispatcher.failed & 0xFFFF
        if name == "tc_rejected":
            return self.comms.rejected & 0xFFFF
        if name == "auth_rejects":
            return self.comms.auth_rejects & 0xFFFF
        if name == "task_errors":
            return self.executive.errors() & 0xFFFF
        if name == "overruns":
            return self.executive.overruns() & 0xFFFF
        if name == "fdir_trips":
            return self.fdir.trips & 0xFFFF
        if name == "isolated":
            return s.health.isolated
        if name == "loads_shed":
            return self.shedder.cutoff or 0
        if name == "audit_seq":
            return self.audit.seq
        if name == "audit_head":
            return self.audit.head_u32()
        if name == "sched_len":
            return len(self.schedule.entries)
        if name == "heap_free":
            return self.heap_free
        if name == "payload_files":
            return len(self.payload.queue)
        raise KeyError(name)

    def _solar_w(self):
        # charge power = battery power + load power; the INA219 sits on the battery (discharge > 0)
        s = self.sensors
        if s.batt_v is None or s.batt_a is None:
            return 0.0
        return max(0.0, -s.batt_v * s.batt_a)

    def hk_report(self, sid):
        # each set's report is packed into a buffer of its own (formats and offsets from the
        # dictionary): a report allocates only the values and the packet
        buf, fields = _LAYOUTS[sid]
        for i in range(0, len(fields), 3):
            struct.pack_into(fields[i + 1], buf, fields[i + 2], self.tm_value(fields[i]))
        self._emit(3, 25, buf)


# the struct formats, one string each: a format built per field would be a heap string per field
_FORMATS = {"B": ">B", "H": ">H", "I": ">I", "f": ">f"}


def _layout(sid):
    fields = []
    offset = 1
    for name in HK_SETS[sid][3]:
        fmt = _FORMATS[TM_TYPES.get(name, "f")]
        fields += (name, fmt, offset)
        offset += struct.calcsize(fmt)
    buf = bytearray(offset)
    buf[0] = sid
    return buf, tuple(fields)


# sid -> (report buffer, (name, struct format, offset, name, ...)), made once at import: no tick
# pays; flat, not a tuple per field (32 B each on a board)
_LAYOUTS = {sid: _layout(sid) for sid in HK_SETS}
