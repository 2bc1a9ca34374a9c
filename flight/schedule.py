"""PUS-11 time-based schedule: time-tagged telecommands released at onboard time, persisted.

Entries survive a reboot (power-loss-safe slot store). A command whose release time passed
while the spacecraft was down is released at the first tick after boot (ECSS leaves this to
the mission; releasing late beats silently dropping a planned activity), and counted as late.
A component (flight/commands.py): it runs the schedule_* commands; `app` (the wiring sets it)
gives the onboard time and the report's way out.
"""

import struct

from flight.dictionary import FAIL
from flight.errors import CommandError
from flight.storage import SlotStore


class Schedule:
    def __init__(self, fs, capacity=32, name="schedule"):
        self.store = SlotStore(fs, name)
        self.capacity = capacity
        self.entries = []  # sorted [(release_s, apid, seq, tc bytes)]
        self.enabled = True
        self.released = 0
        self.late = 0
        raw = self.store.load()
        if raw:
            self.enabled = bool(raw[0])
            i = 1
            while i + 6 <= len(raw):
                release, n = struct.unpack_from(">IH", raw, i)
                tc = bytes(raw[i + 6 : i + 6 + n])
                self.entries.append((release,) + _request(tc) + (tc,))  # noqa: RUF005 - MicroPython-safe
                i += 6 + n

    def task(self):
        app = self.app
        for tc in self.due(int(app.obt())):
            req = struct.unpack(">HH", tc[:4])
            app.events.report("SCHEDULED_RELEASE", req[0] & 0x7FF, req[1] & 0x3FFF)
            app.dispatcher.handle(tc, source="schedule")

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "sched_len":
            return len(self.entries)
        raise KeyError(name)

    def tc_schedule_enable(self, v):
        self.set_enabled(True)

    def tc_schedule_disable(self, v):
        self.set_enabled(False)

    def tc_schedule_reset(self, v):
        self.reset()

    def tc_schedule_insert(self, v):
        self.insert(v[0], v[1].pack(), int(self.app.obt()))

    def tc_schedule_delete(self, v):
        self.delete(v[0], v[1])

    def tc_schedule_list(self, v):
        self.app.report_once("pus_11_schedule", self.summary())

    def _save(self):
        out = bytearray((1 if self.enabled else 0,))
        for release, _apid, _seq, tc in self.entries:
            out += struct.pack(">IH", release, len(tc)) + tc
        self.store.save(bytes(out))

    def insert(self, release_s, tc_bytes, now_s):
        if release_s <= now_s:
            raise CommandError(FAIL["TIME_PASSED"], "release %d <= onboard time %d" % (release_s, now_s))
        if len(self.entries) >= self.capacity:
            raise CommandError(FAIL["TABLE_FULL"], "schedule holds %d commands" % self.capacity)
        apid, seq = _request(tc_bytes)
        for e in self.entries:
            if e[1] == apid and e[2] == seq:
                raise CommandError(FAIL["ARG_RANGE"], "request %d/%d already scheduled" % (apid, seq))
        self.entries.append((release_s, apid, seq, bytes(tc_bytes)))
        self.entries.sort(key=lambda e: (e[0], e[1], e[2]))
        self._save()

    def delete(self, apid, seq):
        for i, e in enumerate(self.entries):
            if e[1] == apid and e[2] == seq:
                del self.entries[i]
                self._save()
                return
        raise CommandError(FAIL["UNKNOWN_ID"], "no scheduled request %d/%d" % (apid, seq))

    def reset(self):
        self.entries = []
        self._save()

    def set_enabled(self, on):
        self.enabled = bool(on)
        self._save()

    def due(self, now_s):
        """Pop and return the TC packets due at `now_s` (oldest first); persisted before release."""
        if not self.enabled or not self.entries or self.entries[0][0] > now_s:
            return []
        out = []
        while self.entries and self.entries[0][0] <= now_s:
            e = self.entries.pop(0)
            if now_s - e[0] > 2:
                self.late += 1
            out.append(e[3])
        # removed from storage before execution: a reset mid-release never runs a command twice
        self._save()
        self.released += len(out)
        return out

    def summary(self):
        """The entries of the TM(11,13) report (protocols/pus_11_schedule.py): (release, apid, seq)."""
        return [e[:3] for e in self.entries]


def _request(tc):
    if len(tc) < 4:
        return (0, 0)
    return (((tc[0] << 8) | tc[1]) & 0x7FF, ((tc[2] << 8) | tc[3]) & 0x3FFF)
