"""The emulated pass behind `cubesat mission`: both ends of the space link, end to end.

Until the flight twin lands (issue 4/5), the spacecraft end is a small stand-in that
uses the very same protocols code the flight software will: it decodes CLTUs into TC
frames and PUS-C telecommands, answers PUS-17 pings with PUS-1 verification reports,
and downlinks PUS-3 housekeeping (CBOR) through TM frames with a CLCW, randomized
RS(255,223) codeblocks and ASMs. The channel flips bits at the requested rate in both
directions; what the ground prints is what it decoded, counted honestly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from protocols import cbor, cltu, cop1, errors, sync, tcframe, tmframe
from protocols.cuc import CucTime
from protocols.pus import PusTc, PusTm

SCID = 0x2A
APID = 0x10
ORBIT_S = 5400.0
ECLIPSE_FRACTION = 0.36


def flip_bits(data: bytes, ber: float, rnd: random.Random) -> bytes:
    """The channel: each bit flips with probability `ber`."""
    if ber <= 0 or not data:
        return data
    out = bytearray(data)
    nbits = len(out) * 8
    pos = int(rnd.expovariate(ber))
    while pos < nbits:
        out[pos >> 3] ^= 0x80 >> (pos & 7)
        pos += 1 + int(rnd.expovariate(ber))
    return bytes(out)


@dataclass
class StandInSpacecraft:
    """Spacecraft end of the link: TC in (CLTU bytes), TM out (CADU bytes)."""

    interleave: int
    t: float = 0.0
    soc: float = 0.8
    seq: int = 0
    msg_counter: int = 0
    received: list[PusTc] = field(default_factory=list)
    rejected: int = 0

    def __post_init__(self) -> None:
        self.rx = cltu.CltuReceiver()
        self.framer = tmframe.TmFramer(223 * self.interleave, SCID, vcid=0)
        self._accepted: list[bytes] = []
        self.farm = cop1.Farm1(vcid=0, window=10, deliver=self._accepted.append)

    def state(self) -> dict:
        phase = (self.t % ORBIT_S) / ORBIT_S
        sunlit = phase < 1 - ECLIPSE_FRACTION
        solar_w = 7.5 * max(0.0, math.sin(math.pi * phase / (1 - ECLIPSE_FRACTION))) if sunlit else 0.0
        return {
            "t": round(self.t, 1),
            "sunlit": sunlit,
            "solar_w": round(solar_w, 2),
            "soc": round(self.soc, 4),
            "batt_v": round(6.4 + 2.0 * self.soc, 3),
            "temp_c": round(5 + 20 * math.sin(2 * math.pi * phase), 2),
        }

    def step(self, dt: float) -> None:
        s = self.state()
        self.soc = min(1.0, max(0.0, self.soc + (s["solar_w"] - 3.2) * dt / (3600 * 20)))
        self.t += dt

    def _tm(self, service: int, subtype: int, data: bytes) -> bytes:
        pkt = PusTm(
            service,
            subtype,
            data,
            APID,
            self.seq,
            self.msg_counter,
            timestamp=CucTime.from_seconds(self.t).pack(),
        )
        self.seq = (self.seq + 1) & 0x3FFF
        self.msg_counter = (self.msg_counter + 1) & 0xFFFF
        return pkt.pack()

    def uplink(self, chunk: bytes) -> list[bytes]:
        """Take uplink bytes; return TM packets produced in response."""
        out = []
        for frame_bytes in self.rx.feed(chunk):
            try:
                self.farm.receive(tcframe.unpack_with_fill(frame_bytes))
            except errors.ProtocolError:
                self.rejected += 1
        self.framer.clcw = self.farm.clcw()  # FARM-1 reports in every TM frame's OCF
        accepted, self._accepted[:] = list(self._accepted), []
        for data in accepted:
            try:
                tc = PusTc.unpack(data)
            except errors.ProtocolError:
                self.rejected += 1
                continue
            self.received.append(tc)
            pid, psc = tc.request_id()
            req = bytes((pid >> 8, pid & 0xFF, psc >> 8, psc & 0xFF))
            out.append(self._tm(1, 1, req))  # acceptance success
            if (tc.service, tc.subtype) == (17, 1):
                out.append(self._tm(17, 2, b""))
                out.append(self._tm(1, 7, req))  # completion success
            else:
                out.append(self._tm(1, 8, req + b"\x00\x01"))  # completion failure: unsupported here
        return out

    def housekeeping(self) -> bytes:
        return self._tm(3, 25, cbor.dumps(self.state()))

    def downlink(self, packets: list[bytes], flush: bool) -> bytes:
        frames = []
        for p in packets:
            frames.extend(self.framer.add_packet(p))
        if flush:
            frames.extend(self.framer.flush())
        return b"".join(sync.build_cadu(f, self.interleave) for f in frames)


def run_mission(seconds: int = 5400, ber: float = 2e-4, interleave: int = 5, seed: int = 1) -> bool:
    console = Console()
    console.rule("cubesat mission: %d s of orbit through the full space link (stand-in spacecraft)" % seconds)
    rnd = random.Random(seed)
    sc = StandInSpacecraft(interleave)
    dec = sync.CaduDecoder(223 * interleave, interleave)
    ext = tmframe.PacketExtractor()
    hk: list[dict] = []
    verification: dict[int, list[int]] = {}
    pings_sent = 0
    pongs = 0
    crc_failures = 0
    last_clcw = None
    dt = 1.0
    fop = cop1.Fop1(SCID, vcid=0, window=8, t1_ms=4000, transmission_limit=10)
    fop.initialize(0)

    for tick in range(int(seconds / dt)):
        sc.step(dt)
        now_ms = tick * 1000
        if tick % 60 == 5:  # a ping every minute: PUS-C TC -> COP-1 AD frame -> CLTU -> noisy uplink
            fop.send(PusTc(17, 1, apid=APID, seq_count=pings_sent).pack())
            pings_sent += 1
        replies: list[bytes] = []
        for frame in fop.poll(now_ms):
            replies += sc.uplink(flip_bits(cltu.encode(frame), ber, rnd))
        if tick % 10 == 0:
            replies.append(sc.housekeeping())
        stream = flip_bits(sc.downlink(replies, flush=bool(replies)), ber, rnd)
        for raw in dec.feed(stream):
            try:
                frame = tmframe.unpack(raw)
            except errors.CrcError:
                crc_failures += 1
                continue
            last_clcw = frame.clcw()
            fop.on_clcw(last_clcw, now_ms)
            for pkt in ext.feed(frame):
                tm = PusTm.unpack(pkt, timestamp_len=6)
                if (tm.service, tm.subtype) == (3, 25):
                    hk.append(cbor.loads(tm.source_data))
                elif tm.service == 1:
                    seq = ((tm.source_data[2] << 8) | tm.source_data[3]) & 0x3FFF
                    verification.setdefault(seq, []).append(tm.subtype)
                elif (tm.service, tm.subtype) == (17, 2):
                    pongs += 1

    _print_summary(
        console,
        hk,
        sc,
        dec,
        ext,
        crc_failures,
        pings_sent,
        pongs,
        verification,
        last_clcw,
        ber,
        interleave,
        fop,
    )
    complete = sum(1 for s in range(pings_sent) if verification.get(s) == [1, 7])
    ok = complete == pings_sent and pongs == pings_sent and ext.lost_frames == 0 and len(hk) == seconds // 10
    console.print(
        "[bold green]PASS[/]" if ok else "[bold red]FAIL[/]",
        "every ping verified, no telemetry lost" if ok else "commands or telemetry were lost",
    )
    return ok


def _print_summary(
    console,
    hk,
    sc,
    dec,
    ext,
    crc_failures,
    pings,
    pongs,
    verification,
    clcw,
    ber,
    interleave,
    fop,
) -> None:
    t = Table(title="Housekeeping (PUS 3,25) decoded on the ground (a sample of %d reports)" % len(hk))
    for col in ("t [s]", "sunlit", "solar [W]", "SoC", "battery [V]", "temp [C]"):
        t.add_column(col, justify="right")
    for row in hk[:: max(1, len(hk) // 12)]:
        t.add_row(
            str(row["t"]),
            "yes" if row["sunlit"] else "[yellow]eclipse[/]",
            "%.2f" % row["solar_w"],
            "%.1f %%" % (100 * row["soc"]),
            "%.3f" % row["batt_v"],
            "%.1f" % row["temp_c"],
        )
    console.print(t)
    link = Table(title="Link statistics (BER %.0e both ways, RS I=%d dual basis)" % (ber, interleave))
    link.add_column("counter")
    link.add_column("value", justify="right")
    rows = [
        (
            "CADUs in sync / ASM misses / slips",
            "%d / %d / %d" % (dec.sync.frames, dec.sync.asm_misses, dec.sync.slips),
        ),
        (
            "RS corrected symbols / uncorrectable codeblocks",
            "%d / %d" % (dec.corrected_symbols, dec.uncorrectable),
        ),
        ("TM frames CRC failures / lost frames", "%d / %d" % (crc_failures, ext.lost_frames)),
        ("TM packets / idle packets", "%d / %d" % (ext.packets, ext.idle_packets)),
        (
            "CLTUs received / aborted / BCH bit corrections",
            "%d / %d / %d" % (sc.rx.cltus, sc.rx.aborted, sc.rx.corrected_bits),
        ),
        (
            "pings sent / pongs / verified (1.1 + 1.7)",
            "%d / %d / %d" % (pings, pongs, sum(1 for v in verification.values() if v == [1, 7])),
        ),
        (
            "COP-1: frames acknowledged / retransmitted / FOP alerts",
            "%d / %d / %d" % (fop.acknowledged, fop.retransmissions, len(fop.alerts)),
        ),
        (
            "FARM-1: accepted / duplicate / ahead / lockouts",
            "%d / %d / %d / %d"
            % (
                sc.farm.counts["accept"],
                sc.farm.counts["duplicate"],
                sc.farm.counts["ahead"],
                sc.farm.counts["locked"],
            ),
        ),
        ("last CLCW", repr(clcw)),
    ]
    for name, value in rows:
        link.add_row(name, value)
    console.print(link)
