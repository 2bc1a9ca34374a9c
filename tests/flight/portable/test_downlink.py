# upy-heapsize: 320K  the whole uplink+downlink stack (flight.comms) compiled from source, 64-bit
"""The flight downlink on MicroPython as on CPython: a link that fails (raises, takes part of a
CADU, or times out) delays telemetry but loses none of it; the failures are counted."""

from flight.comms import Comms
from protocols import sync, tm_extractor, tmframe
from protocols.pus import PusTm


class FlakyLink:
    """Refuses the next `fail` writes in turn: raises OSError, takes half, returns None."""

    def __init__(self):
        self.fail = 0
        self.calls = 0
        self.dec = sync.CaduDecoder(223 * 5, 5)
        self.ext = tm_extractor.PacketExtractor()
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


def test_send_step_sends_the_same_frames_one_unit_per_call():
    a, b = FlakyLink(), FlakyLink()
    ca = Comms(a, 0x2A, lambda *x: None)
    cb = Comms(b, 0x2A, lambda *x: None)
    qa, qb = _packets(40, 0), _packets(40, 0)
    while qa:
        ca.send(qa, flush=False)
    ca.send([])
    units = 0
    while qb or cb.tx_pending() or cb.framer.pending:
        assert cb.send_step(qb)
        units += 1
    assert units == 2 * b.calls  # a frame, then its CADU: two calls each
    assert b.seqs == a.seqs == list(range(40))
    assert cb.send_step([]) and cb.tx_pending()  # an idle (OID) frame is built...
    assert cb.send_step([]) and not cb.tx_pending()  # ...and sent
    assert b.calls == units // 2 + 1 and cb.framer.idle_frames == 1


class Uplink:
    def __init__(self):
        self.buf = b""

    def read(self):
        data, self.buf = self.buf, b""
        return data or None

    def write(self, buf):
        return len(buf)


def test_step_takes_a_frame_then_delivers_its_packet_one_unit_per_call():
    from memfs import MemFs

    from protocols import cltu, sdls
    from protocols.pus import PusTc

    key = bytes(range(32))
    link = Uplink()
    got = []
    fs = MemFs()
    comms = Comms(link, 0x2A, lambda p, src, level: got.append(p), key=key, fs=fs)
    ground = sdls.SecurityAssociation(1, key)
    tc = PusTc(17, 1, apid=0x10, seq_count=1).pack()
    assert "keys.a" in fs.files and "keys.b" in fs.files  # made at boot: no flight write creates one
    assert comms.keys._marks[1] == sdls.PERSIST_STRIDE and not comms.busy()
    ground.last_sn = sdls.PERSIST_STRIDE  # past the first mark: this frame's mark is written at once
    link.buf = cltu.encode(sdls.secure_frame(ground, 0x2A, 0, 0, tc, bypass=True))
    assert comms.step(0) and comms.frames_ok == 1 and got == [] and comms.busy()
    assert comms.keys._marks[1] == 2 * sdls.PERSIST_STRIDE + 1  # in flash before the command can run
    assert comms.step(0) and got == [tc]
    assert not comms.step(0) and not comms.busy()
    link.buf = cltu.encode(sdls.secure_frame(ground, 0x2A, 0, 0, tc, bypass=True))
    assert comms.poll(0) == 1 and len(got) == 2  # poll: every unit of the frame at once
