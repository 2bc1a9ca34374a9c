"""A lossy, reordering PDU channel on a fake clock for CFDP machines (tests/portable), the same on
MicroPython and CPython."""


class Rng:
    """xorshift32: the same numbers on MicroPython and CPython."""

    def __init__(self, seed):
        self.x = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def below(self, n):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n


class Channel:
    """Drops `drop_pct` percent of the PDUs and holds back 10% for a later tick (reordering)."""

    def __init__(self, seed, drop_pct):
        self.rng = Rng(seed)
        self.drop_pct = drop_pct
        self.queue = []
        self.sent = 0
        self.dropped = 0

    def put(self, pdu):
        self.sent += 1
        if self.rng.below(100) < self.drop_pct:
            self.dropped += 1
        else:
            self.queue.insert(len(self.queue) - self.rng.below(min(3, len(self.queue) + 1)), pdu)

    def take(self):
        now = []
        later = []
        for pdu in self.queue:
            (later if self.rng.below(100) < 10 else now).append(pdu)
        self.queue = later
        return now


def run(tx, rx, seed=1, drop_pct=0, step_ms=10, deadline_ms=600000, drop_back=None):
    fwd = Channel(seed, drop_pct)
    back = Channel(seed + 1000, drop_pct if drop_back is None else drop_back)
    now = 0
    while not (tx.done and rx.done) and now < deadline_ms:
        for pdu in tx.poll(now):
            fwd.put(pdu)
        for pdu in fwd.take():
            rx.feed(pdu, now)
        for pdu in rx.poll(now):
            back.put(pdu)
        for pdu in back.take():
            tx.feed(pdu, now)
        now += step_ms
    assert tx.done and rx.done, "no end by %d ms" % now
    return fwd, back


def pattern(offset, n):
    return bytes(((i * 31) ^ (i >> 7)) & 0xFF for i in range(offset, offset + n))
