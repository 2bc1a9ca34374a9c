"""The SX1276 LoRa radio as the flight link: the byte/packet link `flight.comms.Comms` reads and
writes, with the LoRa profile of `protocols.lora` (one 255-byte CADU per packet, CLTUs in
packets laid end to end).

    link = LoraLink()                      # given to FlightApp as its link
    link.attach(SX1276(spi, cs, ...))      # the radio, once its driver is up (starts RX)
    link.read()                            # uplink bytes of every packet received since, or None
    link.write(cadu)                       # queues one downlink packet; None when the queue is full
    link.tx_ready()                        # room for one more packet (Comms asks before framing)

The channel is half duplex (one frequency; the SX127x cannot hear while it transmits), so the
link takes turns: after every packet on the channel (sent or heard) it listens for `gap_ms`
before it transmits again, and it never starts while its modem hears a packet in progress
(RegModemStat). The ground uses that gap to start its uplink; its packets then hold the board's
downlink back until the channel has been quiet for `gap_ms`.

The adapter also stands in for the radio driver where the application beacons (`poll`, `busy`,
`health_check`, `start_send`, `recover`), so the beacon and the link share one modem: a beacon is
one more packet in the queue. Nothing blocks; nothing is allocated per downlink packet (the queue
is `depth` preallocated packet buffers).
"""

from hal.clock import ticks_diff
from hal.drivers.sx1276 import SX1276
from protocols import lora

_NONE = 0
_TX_DONE = 1
_RX_DONE = 2
_RX_CRC_ERROR = 3
_TX_TIMEOUT = 4


def profile_radio(spi, cs, reset, clock, dio0=None, frequency_hz=437000000):
    """An SX1276 driver set up for the LoRa link profile (protocols.lora): the board's and the
    ground station's radio alike."""
    return SX1276(
        spi,
        cs,
        reset=reset,
        clock=clock,
        dio0=dio0,
        frequency_hz=frequency_hz,
        sf=lora.SF,
        bw_hz=lora.BW_HZ,
        cr=lora.CR,
        preamble=lora.PREAMBLE,
        crc=lora.CRC,
    )


def carry_link(link, app, board, clock):
    """Give the application's LoRa `link` the board's SX1276 (the definition's spi[0] sx1276),
    set up for the profile after the application's own driver set it up for beacons; the link
    then also stands in for that driver, so beacons and frames share the modem. flight.main does
    this on a board whose definition says `"link": "lora"`, the twin for `link="lora"`."""
    dev = board.defn["spi"][0]["devices"]["sx1276"]
    link.attach(
        profile_radio(
            board.spi(0), board.pin(dev["cs"]), board.pin(dev["reset"]), clock, board.pin(dev["dio0"])
        )
    )
    app.radio = link


class LoraLink:
    frame_len = lora.FRAME_LEN  # the TM frame geometry Comms uses on this link
    interleave = lora.INTERLEAVE

    def __init__(self, radio=None, gap_ms=300, depth=2):
        self.radio = None
        self.gap_ms = gap_ms
        self.depth = depth
        self._bufs = [bytearray(lora.PACKET_MAX) for _ in range(depth)]
        self._lens = [0] * depth
        self._head = 0
        self._count = 0
        self._rx = []
        self._quiet_since = 0
        self.packets_in = 0
        self.packets_out = 0
        self.bytes_in = 0
        self.rx_crc_errors = 0
        self.tx_failures = 0  # transmissions the modem never finished (the driver reset it)
        self.deferrals = 0  # times a queued packet waited because the channel was not free
        if radio is not None:
            self.attach(radio)

    def attach(self, radio):
        """Use `radio` (an hal.drivers.sx1276.SX1276, configured for the profile): listen now."""
        self.radio = radio
        self._count = 0
        self._rx = []
        radio.start_receive()
        self._quiet_since = radio.clock.ticks_ms()

    # --- the byte link Comms uses ----------------------------------------------------------------
    def read(self):
        """The payloads of the packets received since the last call, end to end; None if none."""
        self.service()
        if not self._rx:
            return None
        data = b"".join(self._rx)
        self._rx = []
        return data

    def tx_ready(self):
        return self._count < self.depth

    def write(self, data):
        """Queue `data` (at most one packet) for transmission; returns len(data), or None when the
        queue is full or the radio is missing (Comms keeps the CADU and offers it again)."""
        n = len(data)
        if self.radio is None or self._count >= self.depth or not 1 <= n <= lora.PACKET_MAX:
            return None
        slot = (self._head + self._count) % self.depth
        self._bufs[slot][:n] = data
        self._lens[slot] = n
        self._count += 1
        self.service()
        return n

    # --- the radio --------------------------------------------------------------------------------
    def service(self):
        """Take finished packets from the modem and start the next transmission when it is our
        turn. Never blocks; call it often (every read and write does)."""
        r = self.radio
        if r is None:
            return
        for _ in range(4):
            ev = r.poll()
            if ev == _NONE:
                break
            if ev == _RX_DONE:
                self._rx.append(bytes(r.packet()))
                self.packets_in += 1
                self.bytes_in += r.rx_len
            elif ev == _TX_DONE:
                self.packets_out += 1
            elif ev == _RX_CRC_ERROR:
                self.rx_crc_errors += 1
            elif ev == _TX_TIMEOUT:
                self.tx_failures += 1
            self._quiet_since = r.clock.ticks_ms()
        if not self._count or r.busy():
            return
        if ticks_diff(r.clock.ticks_ms(), self._quiet_since) < self.gap_ms or r.channel_busy():
            self.deferrals += 1
            return
        head = self._head
        r.start_send(memoryview(self._bufs[head])[: self._lens[head]])
        self._head = (head + 1) % self.depth
        self._count -= 1

    # --- where the application expects its beacon radio -----------------------------------------
    def poll(self):
        self.service()
        return _NONE

    def busy(self):
        return self._count > 0 or (self.radio is not None and self.radio.busy())

    def start_send(self, data):
        if self.write(data) is None:
            raise ValueError("LoRa link: no room for a %d-byte packet" % len(data))

    def health_check(self):
        if self.radio is None or self.radio.busy():
            return True
        return self.radio.health_check()

    def recover(self):
        if self.radio is not None:
            self.radio.recover()
            self._quiet_since = self.radio.clock.ticks_ms()
