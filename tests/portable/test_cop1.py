"""COP-1: FARM-1 acceptance rules by hand, and FOP-1 + FARM-1 over a lossy link."""

from protocols import cop1, tcframe
from protocols.errors import ProtocolError


def _ad(seq, data=b"x"):
    return tcframe.TcFrame(1, 0, data, seq=seq)


def test_farm_accepts_in_sequence_only():
    got = []
    farm = cop1.Farm1(window=10, deliver=got.append)
    assert farm.receive(_ad(0, b"a")) == cop1.ACCEPT
    assert farm.receive(_ad(0, b"a")) == cop1.DUPLICATE  # negative window
    assert farm.receive(_ad(3, b"d")) == cop1.AHEAD  # positive window: ask for retransmission
    assert farm.clcw().retransmit and farm.clcw().report_value == 1
    assert farm.receive(_ad(1, b"b")) == cop1.ACCEPT
    assert not farm.clcw().retransmit
    assert got == [b"a", b"b"]


def test_farm_lockout_and_unlock():
    farm = cop1.Farm1(window=10)
    assert farm.receive(_ad(100)) == cop1.LOCKED  # far outside both windows
    assert farm.clcw().lockout
    assert farm.receive(_ad(0)) == cop1.LOCKED  # everything is refused while locked out
    unlock = tcframe.TcFrame(1, 0, tcframe.UNLOCK, bypass=True, control=True)
    assert farm.receive(unlock) == cop1.CONTROL
    assert not farm.clcw().lockout and farm.clcw().farm_b_counter == 1
    assert farm.receive(_ad(0)) == cop1.ACCEPT


def test_farm_set_vr_and_bypass():
    got = []
    farm = cop1.Farm1(deliver=got.append)
    farm.receive(tcframe.TcFrame(1, 0, tcframe.set_vr(200), bypass=True, control=True))
    assert farm.vr == 200
    assert farm.receive(_ad(200)) == cop1.ACCEPT
    assert farm.receive(tcframe.TcFrame(1, 0, b"now", seq=7, bypass=True)) == cop1.BYPASS
    assert got == [b"x", b"now"] and farm.clcw().farm_b_counter == 2


def test_farm_wait_when_buffer_full():
    farm = cop1.Farm1()
    farm.buffer_full = True
    assert farm.receive(_ad(0)) == cop1.NO_BUFFER
    assert farm.clcw().wait and farm.clcw().retransmit
    farm.buffer_released()
    assert farm.receive(_ad(0)) == cop1.ACCEPT


def test_sequence_numbers_wrap():
    farm = cop1.Farm1()
    farm.vr = 255
    assert farm.receive(_ad(255)) == cop1.ACCEPT and farm.vr == 0
    assert farm.receive(_ad(255)) == cop1.DUPLICATE


class _Rng:
    def __init__(self, seed):
        self.x = seed or 1

    def random(self):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return self.x / 2147483648.0


def fly(seed, n_commands, drop=0.2, corrupt=0.1, dup=0.1, reorder=0.1, clcw_drop=0.3, limit_ms=200000):
    """FOP-1 on the ground, FARM-1 on board, a link that drops, corrupts, duplicates and reorders."""
    rng = _Rng(seed)
    delivered = []
    farm = cop1.Farm1(window=10, deliver=delivered.append)
    fop = cop1.Fop1(scid=1, window=6, t1_ms=800, transmission_limit=50)
    for i in range(n_commands):
        fop.send(b"cmd%03d" % i)
    held = []
    now = 0
    while now < limit_ms and (fop.pending() or held):
        frames = fop.poll(now)
        on_air = []
        for raw in frames + held:
            r = rng.random()
            if r < drop:
                continue
            raw = bytearray(raw)
            if rng.random() < corrupt:
                raw[int(rng.random() * len(raw))] ^= 0x10
            on_air.append(bytes(raw))
            if rng.random() < dup:
                on_air.append(bytes(raw))
        held = []
        if len(on_air) > 1 and rng.random() < reorder:
            held.append(on_air.pop(0))  # arrives after the others, next step
        for raw in on_air:
            try:
                frame = tcframe.TcFrame.unpack(raw)
            except ProtocolError:
                continue  # bad CRC: the frame never reaches FARM
            farm.receive(frame)
        if rng.random() >= clcw_drop:
            fop.on_clcw(farm.clcw(), now)
        now += 100
    return delivered, fop, farm


def test_every_command_exactly_once_in_order_over_a_bad_link():
    for seed in (1, 2, 3):
        delivered, fop, farm = fly(seed, 40)
        assert delivered == [b"cmd%03d" % i for i in range(40)], seed
        assert not fop.suspended and fop.retransmissions > 0
        assert farm.counts[cop1.DUPLICATE] + farm.counts[cop1.AHEAD] > 0


def test_dead_link_suspends_instead_of_flooding():
    delivered, fop, _ = fly(4, 5, drop=1.0, limit_ms=60000)
    assert delivered == [] and fop.suspended
    assert fop.alerts and "transmission limit" in fop.alerts[0]


def test_fop_restart_after_a_spacecraft_reset_resynchronises_and_drops_unconfirmed():
    got = []
    farm = cop1.Farm1(window=10, deliver=got.append)
    fop = cop1.Fop1(1, window=4, t1_ms=100)
    fop.initialize(0)
    for f in fop.poll(0):
        farm.receive(tcframe.TcFrame.unpack(f))
    fop.on_clcw(farm.clcw(), 0)
    fop.send(b"one")
    fop.send(b"two")
    for f in fop.poll(10):
        farm.receive(tcframe.TcFrame.unpack(f))
    fop.on_clcw(farm.clcw(), 10)
    fop.send(b"lost in the reset")
    fop.poll(20)  # sent, never acknowledged: the spacecraft resets now
    farm = cop1.Farm1(window=10, deliver=got.append)  # a fresh FARM at V(R) = 0
    assert fop.restart(30) == [b"lost in the reset"]
    fop.send(b"three")
    for t in (40, 200):
        for f in fop.poll(t):
            farm.receive(tcframe.TcFrame.unpack(f))
        fop.on_clcw(farm.clcw(), t)
    assert farm.vr == 4 and got == [b"one", b"two", b"three"]  # Set V(R)=3, then "three" as frame 3
