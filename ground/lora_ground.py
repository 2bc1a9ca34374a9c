"""The ground end of the LoRa link in the twin: a simulated SX1276 on the world's radio medium,
driven by the same driver as the board's, with the byte interface of a ground link.

    gs = LoraGroundStation(world.clock, world.medium)
    gs.ground_write(cltus)       # uplink bytes: sent in packets of up to 255 bytes, in order
    gs.ground_read()             # the CADU packets heard since, end to end (a CADU stream)

Packets that are not CADUs of the profile (the board's beacon) are kept apart in `beacons`.
Call `ground_read()` every tick: it also polls the radio and starts the next uplink packet.

Turn-taking on the half-duplex channel (the board's side is flight/lora_link.py): the station
starts an uplink packet right after a packet ended on the channel (the board then listens for
its gap), or once the channel has been quiet for longer than the board's gap (the board has
nothing to send); never while its modem hears a packet in progress.
"""

from __future__ import annotations

import math
import random

from flight.lora_link import profile_radio
from hal.clock import ticks_diff
from hal.drivers.sx1276 import SX1276
from hal.sim.buses.bus import SimPin
from hal.sim.buses.spi import SimSPI
from hal.sim.chips.sx1276 import SimSX1276
from protocols import lora


class BitErrors:
    """The radio channel's bit errors for RadioMedium(damage=...): each bit flips with probability
    `ber`, independently (geometric gaps between errors, one draw per error)."""

    def __init__(self, ber: float, seed: int = 1) -> None:
        self.ber = ber
        self.rnd = random.Random(seed)

    def __call__(self, payload: bytes) -> tuple[bytes, int]:
        if self.ber <= 0 or not payload:
            return payload, 0
        nbits = len(payload) * 8
        scale = 1.0 / math.log(1.0 - self.ber)
        pos = int(math.log(1.0 - self.rnd.random()) * scale)
        if pos >= nbits:
            return payload, 0
        out = bytearray(payload)
        flips = 0
        while pos < nbits:
            out[pos >> 3] ^= 0x80 >> (pos & 7)
            flips += 1
            pos += 1 + int(math.log(1.0 - self.rnd.random()) * scale)
        return bytes(out), flips


class LoraGroundStation:
    def __init__(self, clock, medium, board_gap_ms: int = 300, name: str = "ground") -> None:
        self.clock = clock
        self.board_gap_ms = board_gap_ms
        spi = SimSPI()
        cs = SimPin(name + "_cs", SimPin.OUT, 1)
        rst = SimPin(name + "_rst", SimPin.OUT, 1)
        self.chip = SimSX1276(clock, medium, rst, None, name)
        spi.attach(cs, self.chip)
        self.radio = profile_radio(spi, cs, rst, clock)
        self.radio.start_receive()
        self._up = bytearray()
        self._down: list[bytes] = []
        self._quiet_since = clock.ticks_ms()
        self.beacons: list[bytes] = []
        self.packets_in = 0
        self.packets_out = 0
        self.cadus_in = 0
        self.bytes_out = 0
        self.largest_packet = 0  # of the uplink packets sent
        self.sizes_in: set[int] = set()  # lengths of the packets heard

    def ground_write(self, data: bytes) -> None:
        self._up += data
        self.service()

    def ground_read(self) -> bytes:
        self.service()
        data = b"".join(self._down)
        self._down = []
        return data

    def pending_uplink(self) -> int:
        return len(self._up)

    def service(self) -> None:
        r = self.radio
        while True:
            ev = r.poll()
            if ev == SX1276.NONE:
                break
            if ev == SX1276.RX_DONE:
                pkt = bytes(r.packet())
                self.packets_in += 1
                self.sizes_in.add(len(pkt))
                if lora.is_cadu(pkt):
                    self.cadus_in += 1
                    self._down.append(pkt)
                else:
                    self.beacons.append(pkt)
            self._quiet_since = self.clock.ticks_ms()
        if not self._up or r.busy() or r.channel_busy():
            return
        quiet = ticks_diff(self.clock.ticks_ms(), self._quiet_since)
        if quiet < self.board_gap_ms // 2 or quiet > 2 * self.board_gap_ms:
            pkt = bytes(lora.segments(self._up)[0])
            del self._up[: len(pkt)]
            r.start_send(pkt)
            self.packets_out += 1
            self.bytes_out += len(pkt)
            self.largest_packet = max(self.largest_packet, len(pkt))
