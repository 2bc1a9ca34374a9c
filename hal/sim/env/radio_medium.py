"""The space between simulated radios (hal.sim.chips.sx1276.SimSX1276): every radio attaches
to one medium, which carries each packet to the others when its time on air ends.

    medium = RadioMedium(clock, link=LoraLinkBudget(...))   # or fixed rssi_dbm / snr_db
    a = SimSX1276(clock, medium, ...); b = SimSX1276(clock, medium, ...)
    medium.update()                                          # each twin step: DIO0 fires on time

A radio gives the medium `channel()`, `listening()`, `deliver(...)` and `tick()`.
"""

from hal.clock import ticks_diff
from hal.sim.prng import Prng


class RadioMedium:
    """The space between radios: delivers each transmission to every radio listening on the same
    channel when it ends, losing it with probability `loss` and flipping one bit with probability
    `corrupt`, and passing it through `damage(payload) -> (payload, bits flipped)` if given (a
    bit error rate channel); a receiver with CRC on then reports PayloadCrcError, without
    CRC the damaged payload reaches the caller. Overlapping transmissions on
    one channel collide and are lost. RSSI/SNR are what receivers report: fixed values, or from
    `link(sender, receiver) -> (rssi_dbm, snr_db) or None` (None: not heard), e.g. a
    hal.sim.env.link_budget.LoraLinkBudget."""

    def __init__(
        self, clock, loss=0.0, corrupt=0.0, rssi_dbm=-105.0, snr_db=7.5, seed=1, link=None, damage=None
    ):
        self.clock = clock
        self.damage = damage
        self.bit_errors = 0
        self.link = link
        self.loss = loss
        self.corrupt = corrupt
        self.rssi_dbm = rssi_dbm
        self.snr_db = snr_db
        self.rng = Prng(seed)
        self.radios = []
        self._pending = []  # [end_us, start_us, sender, payload, has_crc, channel, collided]
        self.delivered = 0
        self.lost = 0
        self.corrupted = 0
        self.collisions = 0

    def attach(self, radio):
        self.radios.append(radio)

    def transmit(self, sender, payload, has_crc, end_us):
        start = self.clock.ticks_us()
        channel = sender.channel()
        collided = False
        for other in self._pending:
            if other[5] == channel and ticks_diff(other[0], start) > 0:
                other[6] = True  # both are lost
                collided = True
        if collided:
            self.collisions += 1
        self._pending.append([end_us, start, sender, payload, has_crc, channel, collided])

    def in_air(self, radio):
        """True while another radio's packet on `radio`'s channel is being transmitted."""
        now = self.clock.ticks_us()
        channel = radio.channel()
        return any(p[2] is not radio and p[5] == channel and ticks_diff(p[0], now) > 0 for p in self._pending)

    def update(self):
        """Bring every radio up to the clock: finish TX, deliver packets that ended."""
        now = self.clock.ticks_us()
        i = 0
        while i < len(self._pending):
            end_us, _start, sender, payload, has_crc, channel, collided = self._pending[i]
            if ticks_diff(now, end_us) < 0:
                i += 1
                continue
            del self._pending[i]
            for radio in self.radios:
                if radio is sender or not radio.listening() or radio.channel() != channel:
                    continue
                heard = (self.rssi_dbm, self.snr_db) if self.link is None else self.link(sender, radio)
                if heard is None or collided or self.rng.random() < self.loss:
                    self.lost += 1
                    continue
                data = payload
                ok = True
                if self.rng.random() < self.corrupt:
                    bad = bytearray(payload)
                    bit = self.rng.randrange(len(bad) * 8)
                    bad[bit >> 3] ^= 1 << (bit & 7)
                    data = bytes(bad)
                    ok = False
                    self.corrupted += 1
                if self.damage is not None:
                    data, flips = self.damage(data)
                    if flips:
                        ok = False
                        self.corrupted += 1
                        self.bit_errors += flips
                radio.deliver(data, ok, has_crc, heard[0], heard[1])
                self.delivered += 1
        for radio in self.radios:
            radio.tick()
