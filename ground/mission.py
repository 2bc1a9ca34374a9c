"""The emulated pass behind `cubesat mission`: both ends of the space link, end to end.

Until the flight twin lands (issue 4/5), the spacecraft end is a small stand-in flying in
the hal.sim environment (500 km sun-synchronous orbit, tilted-dipole field, eclipse, a slow
tumble, solar panels, battery, thermal node) and using the very same protocols code the
flight software will: it decodes CLTUs into TC
frames and PUS-C telecommands, answers PUS-17 pings with PUS-1 verification reports,
and downlinks PUS-3 housekeeping (CBOR) through TM frames with a CLCW, randomized
RS(255,223) codeblocks and ASMs. The channel flips bits at the requested rate in both
directions; what the ground prints is what it decoded, counted honestly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ground.archive import Archive
from hal.sim.attitude import RigidBody
from hal.sim.environment import Environment
from hal.sim.orbit import CircularOrbit
from protocols import cbor, cltu, cop1, errors, sync, tcframe, tmframe
from protocols.cuc import CucTime
from protocols.pus import PusTc, PusTm
from protocols.sdls import SecurityEndpoint

SCID = 0x2A
APID = 0x10


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
    seq: int = 0
    msg_counter: int = 0
    received: list[PusTc] = field(default_factory=list)
    rejected: int = 0
    security: SecurityEndpoint | None = None  # SDLS authentication of TC frames, when keyed
    scid: int = SCID
    foreign: int = 0

    def __post_init__(self) -> None:
        self.rx = cltu.CltuReceiver()
        # the simulated world of hal.sim: orbit, field, sun and eclipse, slow tumble, power, thermal
        rate = math.radians(2.0)
        # RAAN near the Sun's right ascension on the epoch (Jan 1): a noon-midnight orbit with eclipses
        orbit = CircularOrbit(altitude_km=500, inclination_deg=97.4, raan_deg=281.0)
        self.env = Environment(orbit=orbit, body=RigidBody(omega=(rate, rate * 0.5, -rate * 0.3)))
        self.framer = tmframe.TmFramer(223 * self.interleave, self.scid, vcid=0)
        self._accepted: list[bytes] = []
        self.farm = cop1.Farm1(vcid=0, window=10, deliver=self._accepted.append)

    def state(self) -> dict:
        env = self.env
        return {
            "t": round(self.t, 1),
            "sunlit": not env.eclipse,
            "solar_w": round(env.solar_w, 2),
            "soc": round(env.battery.soc, 4),
            "batt_v": round(env.battery.voltage(), 3),
            "temp_c": round(env.structure.celsius(), 2),
            "rate_dps": round(math.degrees(env.body_rate()), 3),
        }

    def step(self, dt: float) -> None:
        self.env.step(dt)
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
                frame = tcframe.unpack_with_fill(frame_bytes)
                if frame.scid != self.scid:
                    self.foreign += 1  # another spacecraft's command on a shared uplink: not ours
                    continue
                if self.security is not None and not frame.control:
                    # SDLS before FARM-1: forged, replayed or wrong-key frames never reach the sequence check
                    frame.data = self.security.verify(frame_bytes[:5], frame.data, frame.vcid)
                self.farm.receive(frame)
            except (errors.AuthenticationError, errors.ReplayError) as exc:
                self.rejected += 1
                # PUS-5 high-severity event: names the check that failed, never key material
                out.append(self._tm(5, 4, ("AUTH_REJECT %s" % exc.field).encode()))
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


def run_mission(
    seconds: int = 5400, ber: float = 2e-4, interleave: int = 5, seed: int = 1, out_dir: str | None = "out"
) -> bool:
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
    archive_rows: list[tuple[str, float, float]] = []
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
                    archive_rows.extend((k, hk[-1]["t"], float(v)) for k, v in hk[-1].items() if k != "t")
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
    if out_dir is not None:
        _archive_and_plot(console, Path(out_dir), archive_rows)
    complete = sum(1 for s in range(pings_sent) if verification.get(s) == [1, 7])
    ok = complete == pings_sent and pongs == pings_sent and ext.lost_frames == 0 and len(hk) == seconds // 10
    console.print(
        "[bold green]PASS[/]" if ok else "[bold red]FAIL[/]",
        "every ping verified, no telemetry lost" if ok else "commands or telemetry were lost",
    )
    return ok


def _archive_and_plot(console: Console, out: Path, rows: list[tuple[str, float, float]]) -> None:
    """Store the pass in the SQLite archive, then plot from the archive (what an operator would do)."""
    out.mkdir(parents=True, exist_ok=True)
    db = out / "mission.sqlite"
    if db.exists():
        db.unlink()
    arc = Archive(db)
    arc.ingest_samples(SCID, rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(9, 7), sharex=True)
    for ax, (name, label) in zip(
        axes,
        (
            ("soc", "battery state of charge"),
            ("solar_w", "solar power [W]"),
            ("temp_c", "structure temperature [C]"),
        ),
    ):
        t, v = arc.samples(SCID, name, 0.0, 1e12)
        ax.plot(t / 60.0, v)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(True, alpha=0.3)
    t, sunlit = arc.samples(SCID, "sunlit", 0.0, 1e12)
    for ax in axes:
        ax.fill_between(
            t / 60.0,
            0,
            1,
            where=sunlit < 0.5,
            transform=ax.get_xaxis_transform(),
            alpha=0.15,
            color="grey",
            label="eclipse",
        )
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("mission time [min]")
    fig.suptitle("cubesat mission: housekeeping from the ground archive (SCID %d)" % SCID)
    fig.tight_layout()
    png = out / "mission.png"
    fig.savefig(png, dpi=90)
    plt.close(fig)
    arc.close()
    console.print("archive: %s (%d samples), plot: %s" % (db, len(rows), png))


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
