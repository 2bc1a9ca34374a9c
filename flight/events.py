"""PUS-5 event reporting: TM(5, severity) with the event id and its auxiliary data (the service's
codec: protocols/pus_5_event.py; the ground names a report's values: ground/pus/events.py).

    events = EventReporter(emit)
    events.report("MODE_CHANGE", 1, 3, 0)

`emit(service, subtype, data, downlink)` makes the TM packet; the events packet store keeps it
in flash across a reboot (flight/packet_store.py). A disabled event (TC 5,6) is still made and
stored, not downlinked. A component (flight/commands.py): it runs event_enable and event_disable.
"""

from flight.dictionary import EVENTS, FAIL
from flight.errors import CommandError
from protocols import pus_5_event as event

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const

_R_ARG_1 = const(24)  # a failure reason of flight/dictionary.py's table

_BY_ID = {v[0]: name for name, v in EVENTS.items()}


class EventReporter:
    def __init__(self, emit):
        self.emit = emit
        self.disabled = set()
        self.counts = [0, 0, 0, 0, 0]  # by severity 1..4
        self.last = None  # (name, aux) of the last event; every event is in the events store

    def report(self, name, *aux):
        ev_id, severity, fmt, _names, _desc = EVENTS[name]
        data = event.encode_report(ev_id, fmt, aux)
        self.counts[severity] += 1
        self.last = (name, aux)
        self.emit(event.SERVICE, severity, data, ev_id not in self.disabled)
        return data

    def tc_check(self, name, v):
        if v[0] not in _BY_ID:
            raise CommandError(FAIL["UNKNOWN_ID"], "no event %d" % v[0], _R_ARG_1)

    def tc_event_enable(self, v):
        self.set_enabled(v[0], True)

    def tc_event_disable(self, v):
        self.set_enabled(v[0], False)

    def set_enabled(self, ev_id, on):
        if ev_id not in _BY_ID:
            return False
        if on:
            self.disabled.discard(ev_id)
        else:
            self.disabled.add(ev_id)
        return True
