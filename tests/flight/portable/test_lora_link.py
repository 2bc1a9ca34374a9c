# upy-heapsize: 448K  flight.comms, the sim radio medium, SPI and SX1276 driver from source, 64-bit
"""The flight link over the board's SX1276 (flight.lora_link + flight.comms), on MicroPython as on
CPython: every downlink packet is one 255-byte CADU of a 219-byte frame (I=1), a CLTU longer
than a packet reaches the dispatcher, the two ends take turns on the half-duplex channel, and
the beacon shares the modem."""

import gc

from flight.comms import Comms
from flight.lora_link import LoraLink, profile_radio
from hal.drivers.sx1276 import SX1276
from hal.sim.buses.bus import SimPin
from hal.sim.buses.clock import VirtualClock
from hal.sim.buses.spi import SimSPI
from hal.sim.chips.sx1276 import SimSX1276
from hal.sim.env.radio_medium import RadioMedium
from hal.sim.prng import Prng
from protocols import cltu, lora, rs, sync, tcframe, tm_extractor, tmframe
from protocols.pus import PusTc, PusTm

SCID = 0x2A


class BitErrors:
    """Each bit flips with probability `ber` (the radio channel of RadioMedium(damage=...)), from
    the second packet on: the ground's frame synchronizer locks on a first exact ASM, as on any
    CADU stream, and then tolerates damaged ones."""

    def __init__(self, ber):
        self.ber = ber
        self.rng = Prng(7)
        self.packets = 0

    def __call__(self, payload):
        self.packets += 1
        if self.packets == 1:
            return payload, 0
        out = bytearray(payload)
        flips = 0
        for i in range(len(out) * 8):
            if self.rng.random() < self.ber:
                out[i >> 3] ^= 0x80 >> (i & 7)
                flips += 1
        return bytes(out), flips


class Rig:
    def __init__(self, ber=0.0):
        self.clock = VirtualClock()
        self.medium = RadioMedium(self.clock, damage=BitErrors(ber) if ber else None)
        self.spi = SimSPI()
        self.sat = self._radio("sat")
        self.ground = self._radio("ground")
        self.ground.start_receive()
        self.link = LoraLink(self.sat)
        self.delivered = []
        self.comms = Comms(self.link, SCID, self._deliver)
        self.heard = []  # packets the ground received, in order

    def _radio(self, name):
        cs = SimPin("cs_" + name, SimPin.OUT, 1)
        rst = SimPin("rst_" + name, SimPin.OUT, 1)
        self.spi.attach(cs, SimSX1276(self.clock, self.medium, rst, None, name))
        return profile_radio(self.spi, cs, rst, self.clock)

    def _deliver(self, packet, source, level):
        self.delivered.append(bytes(packet))

    def tick(self, queue=None):
        """One 100 ms flight tick: link_rx, link_tx, then the world and the ground station."""
        self.comms.poll(0)
        if queue is not None:
            self.comms.send(queue)
        self.clock.advance_ms(100)
        self.medium.update()
        while True:
            ev = self.ground.poll()
            if ev == SX1276.NONE:
                break
            if ev == SX1276.RX_DONE:
                self.heard.append(bytes(self.ground.packet()))


def _tm(seq):
    return PusTm(
        3, 25, bytes([1]) + bytes((seq + i) & 0xFF for i in range(40)), apid=0x10, seq_count=seq
    ).pack()


def test_comms_takes_the_frame_geometry_of_the_link():
    rig = Rig()
    assert rig.comms.framer.frame_len == lora.FRAME_LEN == 219
    assert rig.comms.interleave == 1
    assert len(rig.comms._cadu) == lora.CADU_LEN == 255


def test_downlink_packets_are_single_cadus_and_decode_in_order():
    gc.collect()
    rs.decode(rs.encode(bytes(8)))  # the decoder's 8 KiB table, before the heap fragments
    rig = Rig(ber=1e-3)
    queue = [_tm(i) for i in range(30)]
    for _ in range(600):  # deadline: 60 s of ticks
        rig.tick(queue)
        if not queue and not rig.link.busy() and len(rig.heard) >= 7:
            break
    assert not queue
    assert rig.heard
    for p in rig.heard:
        assert len(p) == 255
        assert lora.is_cadu(p)
    gc.collect()
    dec = sync.CaduDecoder(lora.FRAME_LEN, 1)
    ext = tm_extractor.PacketExtractor()
    seqs = []
    for p in rig.heard:  # the ground's stream: the packets end to end
        for raw in dec.feed(p):
            for pkt in ext.feed(tmframe.unpack(raw)):
                seqs.append(PusTm.unpack(pkt, timestamp_len=0).seq_count)
    assert seqs == list(range(30))
    assert rig.medium.bit_errors > 0  # the channel damaged packets, RS repaired them
    assert dec.corrected_symbols > 0 and dec.uncorrectable == 0
    assert rig.medium.collisions == 0


def test_a_cltu_longer_than_a_packet_reaches_the_dispatcher():
    rig = Rig()
    tc = PusTc(17, 1, bytes((i * 7) & 0xFF for i in range(600)), apid=0x10, seq_count=5).pack()
    frame = tcframe.TcFrame(SCID, 0, tc, seq=0).pack()
    packets = [bytes(p) for p in lora.segments(cltu.encode(frame))]
    assert len(packets) >= 3
    for p in packets:
        rig.ground.start_send(p)
        for _ in range(40):  # deadline: 4 s per packet
            rig.tick()
            if not rig.ground.busy():
                break
        assert not rig.ground.busy()
        rig.ground.poll()
    for _ in range(5):
        rig.tick()
    assert rig.link.packets_in == len(packets)
    assert rig.delivered == [tc]
    assert rig.comms.frames_ok == 1


def test_the_board_waits_for_its_turn_on_the_channel():
    rig = Rig()
    rig.ground.start_send(bytes(200))  # the ground talks first: ~1 s on air
    rig.clock.advance_ms(10)
    queue = [_tm(0)]
    rig.tick(queue)  # the board has a CADU to send while the ground's packet is in the air
    assert rig.link.busy() and not rig.sat.busy()
    assert rig.link.deferrals >= 1
    for _ in range(100):
        rig.tick(queue)
        if rig.heard:
            break
    assert len(rig.heard) == 1 and len(rig.heard[0]) == 255
    assert rig.medium.collisions == 0
    assert rig.link.packets_in == 1  # it heard the ground's packet before it answered


def test_the_beacon_shares_the_modem():
    rig = Rig()
    rig.link.poll()
    assert not rig.link.busy()
    rig.link.start_send(b"CS" + bytes(12))
    assert rig.link.busy()
    for _ in range(100):
        rig.tick()
        if rig.heard:
            break
    assert rig.heard == [b"CS" + bytes(12)]
    assert not lora.is_cadu(rig.heard[0])
    assert rig.link.health_check()
