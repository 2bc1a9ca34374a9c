"""Payload experiment manager: configure, hold the environment, sample into files, downlink.

An experiment holds its temperature setpoint (the payload heater's band is moved around it),
samples the sensors every `period_s` into a file of CRC-framed records, and when it has its
samples (or is stopped) closes the file and queues it. Queued files go down as PUS-13 large
packet transfers (13,1 first part, 13,2 middle, 13,3 last), one part per call, and are
deleted only after their last part was sent. The queue survives a reboot.

A component (flight/commands.py): it runs payload_start and payload_stop; `app` (the wiring sets
it) gives the mode an experiment needs and the onboard time.
"""

import struct

from flight import modes
from flight.dictionary import FAIL
from flight.errors import CommandError
from flight.storage import SlotStore, frame_record, scan_records
from protocols import pus_13_large_packet as large_packet

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

# failure reasons: numbers of flight/dictionary.py's table (no string on the board)
_R_PAYLOAD_MODE = const(14)
_R_PAYLOAD_BUSY = const(15)
_R_NOTHING_RUNNING = const(21)
_R_ARG_1 = const(24)

# experiment: (name, temperature setpoint degC)
EXPERIMENTS = {1: ("thermal_soak", 25.0), 2: ("magnetometry", 20.0), 3: ("dosimetry", 18.0)}
PART = 200  # bytes of file per TM(13,x) part


class Payload:
    def __init__(self, fs, on_event=None):
        self.fs = fs
        self.on_event = on_event
        self.store = SlotStore(fs, "payload")
        self.active = None  # (experiment, period_s, samples wanted, file name)
        self.taken = 0
        self._next_s = 0
        self.queue = []  # file names waiting for downlink
        self.serial = 0
        self._tx = None  # (file name, data, offset, transaction id)
        raw = self.store.load()
        if raw:
            self.serial = struct.unpack_from(">H", raw, 0)[0]
            self.queue = [n for n in raw[2:].decode().split(",") if n]

    def task(self):
        """Control cycle: a running experiment samples when due; outside NOMINAL it stops."""
        if self.active is None:
            return
        app = self.app
        if app.modes.mode != modes.NOMINAL:
            self.stop()
            return
        s = app.sensors
        b = s.b or (0.0, 0.0, 0.0)
        pc = s.payload_c if s.payload_c is not None else float("nan")
        self.sample(app.obt(), (pc, b[0] * 1e6, b[1] * 1e6, b[2] * 1e6))

    def files_task(self):
        """Slow cycle: the next part of a queued file onto the TM queue. A part waits while the
        queue is half full (radio down or slow): queued behind the housekeeping, it would be the
        oldest and dropped first, and its file is already gone."""
        app = self.app
        if len(app.tm_queue) >= app.tm_room:
            return
        part = self.next_part()
        if part is not None:
            app.emit(large_packet.SERVICE, part[0], part[1])

    def value(self, name):  # housekeeping (flight/telemetry.py)
        if name == "payload_files":
            return len(self.queue)
        raise KeyError(name)

    def tc_check(self, name, v):
        if name != "payload_start":
            return
        if self.app.modes.mode != modes.NOMINAL:
            raise CommandError(FAIL["WRONG_MODE"], "payload runs in NOMINAL only", _R_PAYLOAD_MODE)
        if v[0] not in EXPERIMENTS:
            raise CommandError(FAIL["UNKNOWN_ID"], "no experiment %d" % v[0], _R_ARG_1)
        if self.active is not None:
            raise CommandError(
                FAIL["INTERLOCK"], "experiment %d already running" % self.active[0], _R_PAYLOAD_BUSY
            )

    def tc_payload_start(self, v):
        self.start(v[0], v[1], v[2], self.app.obt())

    def tc_payload_stop(self, v):
        if not self.stop():
            raise CommandError(FAIL["EXEC_FAILED"], "no experiment running", _R_NOTHING_RUNNING)

    def _save(self):
        self.store.save(struct.pack(">H", self.serial) + ",".join(self.queue).encode())

    def setpoint(self):
        return EXPERIMENTS[self.active[0]][1] if self.active else None

    def start(self, experiment, period_s, samples, now_s):
        self.serial = (self.serial + 1) & 0xFFFF
        name = "pl%d_%d.dat" % (experiment, self.serial)
        self.fs.write(name, b"")
        self.active = (experiment, period_s, samples, name)
        self.taken = 0
        self._next_s = now_s
        self._save()

    def sample(self, now_s, values):
        """Take a sample when due; values: tuple of floats. Closes the file when complete."""
        if self.active is None or now_s < self._next_s:
            return
        _exp, period, wanted, name = self.active
        rec = struct.pack(">IB", int(now_s) & 0xFFFFFFFF, len(values)) + struct.pack(
            ">%df" % len(values), *values
        )
        self.fs.append(name, frame_record(rec))
        self.taken += 1
        self._next_s = now_s + period
        if self.taken >= wanted:
            self.stop()

    def stop(self):
        if self.active is None:
            return False
        exp, _period, _wanted, name = self.active
        self.active = None
        self.queue.append(name)
        self._save()
        if self.on_event is not None:
            self.on_event("PAYLOAD_FILE", exp, self.taken)
        return True

    def next_part(self):
        """(subtype, data) of the next PUS-13 part to downlink, or None."""
        if self._tx is None:
            if not self.queue:
                return None
            name = self.queue[0]
            data = self.fs.read(name) or b""
            self._tx = [name, data, 0, self.serial_of(name)]
        name, data, off, tid = self._tx
        chunk = data[off : off + PART]
        part = off // PART + 1
        last = off + PART >= len(data)
        subtype = large_packet.part_subtype(off == 0, last)
        self._tx[2] = off + PART
        if last:
            self._tx = None
            self.queue.pop(0)
            self._save()
            self.fs.remove(name)
        return subtype, large_packet.encode_part(tid, part, chunk)

    @staticmethod
    def serial_of(name):
        return int(name.split("_")[1].split(".")[0])


def read_samples(data):
    """[(t, values)] from a payload file's bytes (ground side or tests)."""
    out = []
    for rec in scan_records(data)[0]:
        t, n = struct.unpack_from(">IB", rec, 0)
        out.append((t, struct.unpack_from(">%df" % n, rec, 5)))
    return out
