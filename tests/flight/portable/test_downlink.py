# upy-heapsize: 320K  the whole uplink+downlink stack (flight.comms) compiled from source, 64-bit
"""The flight downlink on MicroPython as on CPython: a link that fails (raises, takes part of a
CADU, or times out) delays telemetry but loses none of it; the failures are counted."""

from flight.comms import Comms
from protocols import sync, tmframe
from protocols.pus import PusTm


class FlakyLink:
    """Refuses the next `fail` writes in turn: raises OSError, takes half, returns None."""

    def __init__(self):
        self.fail = 0
        self.calls = 0
        self.dec = sync.CaduDecoder(223 * 5, 5)
        self.ext = tmframe.PacketExtractor()
        self.seqs = []  # sequence counts of the packets the ground decoded, in arrival order

    def read(self):
        return None

    def write(self, buf):
        self.calls += 1
        if self.fail:
            self.fail -= 1
            kind = self.fail % 3
            if kind == 0:
                raise OSError(5)
            if kind == 1:
                return len(buf) // 2
            return None
        for raw in self.dec.feed(bytes(buf)):
            for pkt in self.ext.feed(tmframe.unpack(raw)):
                self.seqs.append(PusTm.unpack(pkt, timestamp_len=6).seq_count)
        return len(buf)


def _packets(n, first):
    return [
        PusTm(3, 25, bytes([i & 0xFF]) * 40, 0x10, (first + i) & 0x3FFF, 0, timestamp=bytes(6)).pack()
        for i in range(n)
    ]


def test_a_failing_link_delays_telemetry_and_loses_none():
    link = FlakyLink()
    comms = Comms(link, 0x2A, lambda *a: None)
    queue = _packets(30, 0)
    assert comms.send(queue) > 0 and queue == []  # all framed and sent
    link.fail = 3  # raise, short write, timeout: three sends in a row get nothing through
    queue = _packets(60, 30)
    for _ in range(3):
        assert comms.send(queue) == 0
    assert len(queue) > 0  # what was not yet framed is still queued, nothing dropped
    assert comms.tx_errors == 3
    while queue:
        comms.send(queue)
    comms.send([])
    assert link.seqs == list(range(90))  # every packet, in order, exactly once
    assert comms.oversize == 0


def test_a_packet_larger_than_the_framer_is_dropped_and_counted_not_stalling():
    link = FlakyLink()
    comms = Comms(link, 0x2A, lambda *a: None, interleave=1)
    big = PusTm(13, 1, bytes(1200), 0x10, 0, 0, timestamp=bytes(6)).pack()
    queue = [big]
    queue.extend(_packets(3, 1))
    comms.send(queue)
    assert queue == [] and comms.oversize == 1
