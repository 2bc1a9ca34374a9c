"""PUS-5 event reporting: TM(5, severity) with the event id and its auxiliary data, also logged.

    events = EventReporter(emit, log=RecordLog(fs, "events"), clock=obt)
    events.report("MODE_CHANGE", 1, 3, 0)

`emit(service, subtype, data)` queues the TM packet; the record log keeps the event across a
reboot (t u32 | id u16 | aux). A disabled event (TC 5,6) is still logged, not downlinked.
"""

import struct

from flight.dictionary import EVENTS

_BY_ID = {v[0]: name for name, v in EVENTS.items()}


class EventReporter:
    def __init__(self, emit, log=None, now=None):
        self.emit = emit
        self.log = log
        self.now = now if now is not None else (lambda: 0)
        self.disabled = set()
        self.counts = [0, 0, 0, 0, 0]  # by severity 1..4
        self.last = None  # (name, aux) of the last event; every event is in `log` (flash)
        self.log_errors = 0

    def report(self, name, *aux):
        ev_id, severity, fmt, _names, _desc = EVENTS[name]
        data = struct.pack(">H", ev_id) + struct.pack(fmt, *aux)
        self.counts[severity] += 1
        self.last = (name, aux)
        if self.log is not None:
            try:
                self.log.append(struct.pack(">I", int(self.now()) & 0xFFFFFFFF) + data)
            except OSError:
                self.log_errors += 1  # a full or failing filesystem must not stop event reporting
        if ev_id not in self.disabled:
            self.emit(5, severity, data)
        return data

    def set_enabled(self, ev_id, on):
        if ev_id not in _BY_ID:
            return False
        if on:
            self.disabled.discard(ev_id)
        else:
            self.disabled.add(ev_id)
        return True


def decode(data):
    """(name, {aux name: value}) of a TM(5,x) source data field."""
    ev_id = struct.unpack_from(">H", data, 0)[0]
    name = _BY_ID.get(ev_id)
    if name is None:
        return "EVENT_%d" % ev_id, {}
    _id, _sev, fmt, names, _desc = EVENTS[name]
    values = struct.unpack_from(fmt, data, 2)
    return name, dict(zip(names, values))
