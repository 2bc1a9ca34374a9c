"""The emulated pass behind `cubesat mission`: the flight software and the ground, end to end.

The spacecraft is the twin (ground.flight_twin): the real flight application (executive, PUS
services, modes, FDIR, persisted storage) on the hal.sim world (500 km sun-synchronous orbit,
tilted-dipole field, eclipses, a tumbling 3U, solar panels, battery, thermal nodes). The ground
is an operator terminal (ground.terminal): dictionary commands through COP-1 and CLTUs up,
CADUs (RS x I, randomized, CLCW) down. The channel flips bits at the requested rate in both
directions. A scripted pass: ping, more housekeeping, a parameter set, a commanded mode change,
a time-tagged command, then the autonomous detumble to NOMINAL. What the ground prints, archives
and plots is what it decoded, counted honestly.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from flight.dictionary import MODE_NAMES, PARAM_IDS
from ground.archive import Archive
from ground.flight_twin import FlightTwin, default_environment
from ground.terminal import Terminal

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


def _script() -> dict[int, tuple[str, dict]]:
    """Mission second -> (command, arguments): the pass an operator would fly."""
    return {
        20: ("ping", {}),
        40: ("hk_enable", {"sid": 2}),
        60: ("param_set", {"param_id": PARAM_IDS["comms.beacon_s"], "value": 120.0}),
        80: ("mode_set", {"mode": "DETUMBLE"}),
        100: ("schedule_insert", {"release_s": None, "command": None}),  # filled in at send time
        160: ("hk_oneshot", {"sid": 3}),
    }


def run_mission(
    seconds: int = 5400, ber: float = 2e-4, interleave: int = 5, seed: int = 1, out_dir: str | None = "out"
) -> bool:
    console = Console()
    console.rule(
        "cubesat mission: %d s of flight software on the twin, through the full space link" % seconds
    )
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="mission-flash-") as flash:
        twin = FlightTwin(flash, default_environment(tumble_dps=5.0, soc=0.8), interleave=interleave)
        term = Terminal(SCID, APID, interleave=interleave)
        script = _script()
        sent: list[tuple[str, dict, tuple[int, int]]] = []
        scheduled = None
        term.start(0)
        for tick in range(seconds * 10):
            now_ms = tick * 100
            if now_ms % 1000 == 0 and now_ms // 1000 in script:
                name, args = script[now_ms // 1000]
                if name == "schedule_insert":
                    inner = term.build("hk_oneshot", {"sid": 1})
                    scheduled = term.expect(inner, "hk_oneshot (time-tagged)")
                    args = {"release_s": int(twin.app.obt()) + 120, "command": inner}
                sent.append((name, args, term.command(name, args)))
            if tick % 2 == 0:
                up = term.uplink(now_ms)
                if up:
                    twin.link.ground_write(flip_bits(up, ber, rnd))
            twin.step()
            down = twin.link.ground_read()
            if down:
                term.downlink(flip_bits(down, ber, rnd), now_ms)
        app = twin.app
        _print_summary(console, term, twin, sent, scheduled, ber, interleave)
        if out_dir is not None:
            _archive_and_plot(console, Path(out_dir), term, sent)
        verified = [req for _n, _a, req in sent] + ([scheduled] if scheduled else [])
        all_ok = all(term.verdict(r) == [1, 3, 7] for r in verified)
        core = sum(1 for h in term.hk if h[1] == 1)
        expected = seconds // 10
        ok = (
            all_ok
            and core >= expected - 1
            and term.dl.ext.lost_frames == 0
            and app.executive.errors() == 0
            and not term.fop.alerts
        )
        final = MODE_NAMES[app.modes.mode]
        console.print(
            "[bold green]PASS[/]" if ok else "[bold red]FAIL[/]",
            "every command verified, %d/%d housekeeping reports, mode %s, no task errors"
            % (core, expected, final)
            if ok
            else "commands or telemetry were lost (%d/%d reports, %d lost frames, FOP alerts %s)"
            % (core, expected, term.dl.ext.lost_frames, term.fop.alerts),
        )
        return ok


def _archive_and_plot(console: Console, out: Path, term: Terminal, sent: list) -> None:
    """Store the pass in the SQLite archive, then plot from the archive (what an operator would do)."""
    out.mkdir(parents=True, exist_ok=True)
    db = out / "mission.sqlite"
    if db.exists():
        db.unlink()
    arc = Archive(db)
    rows = [(k, t, float(v)) for t, _sid, values in term.hk for k, v in values.items()]
    arc.ingest_samples(SCID, rows)
    for t, name, aux in term.events:
        arc.log_event(SCID, t, 0, name, aux)
    for name, args, (apid, seq) in sent:
        shown = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in args.items() if k != "command"}
        arc.log_command(SCID, name, shown, apid, seq)
        stages = term.verdict((apid, seq))
        code = term.failures.get((apid, seq), (None, ""))[0]
        arc.update_command(SCID, apid, seq, "completed" if 7 in stages else "failed", code)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 1, figsize=(9, 8), sharex=True)
    panels = (
        ("rate_dps", "body rate [deg/s]"),
        ("soc", "battery state of charge"),
        ("batt_v", "battery [V]"),
        ("mode", "mode (1 SAFE 2 DETUMBLE 3 NOMINAL)"),
    )
    for ax, (name, label) in zip(axes, panels):
        t, v = arc.samples(SCID, name, 0.0, 1e12)
        ax.plot(t / 60.0, v, drawstyle="steps-post" if name == "mode" else "default")
        ax.set_ylabel(label, fontsize=8)
        ax.grid(True, alpha=0.3)
    t, sunlit = arc.samples(SCID, "sunlit", 0.0, 1e12)
    for ax in axes:
        ax.fill_between(
            t / 60.0, 0, 1, where=sunlit < 0.5, transform=ax.get_xaxis_transform(), alpha=0.15, color="grey"
        )
    axes[-1].set_xlabel("onboard time [min] (grey: eclipse)")
    fig.suptitle("cubesat mission: housekeeping from the ground archive (SCID %d)" % SCID)
    fig.tight_layout()
    png = out / "mission.png"
    fig.savefig(png, dpi=90)
    plt.close(fig)
    arc.close()
    console.print("archive: %s (%d samples, %d events), plot: %s" % (db, len(rows), len(term.events), png))


def _print_summary(console, term: Terminal, twin: FlightTwin, sent, scheduled, ber, interleave) -> None:
    core = [(t, v) for t, sid, v in term.hk if sid == 1]
    t = Table(
        title="Housekeeping (PUS 3,25 set 1) decoded on the ground (a sample of %d reports)" % len(core)
    )
    for col in ("t [s]", "mode", "sunlit", "SoC", "battery [V]", "rate [deg/s]", "temp [C]", "payload [C]"):
        t.add_column(col, justify="right")
    for ts, v in core[:: max(1, len(core) // 12)]:
        t.add_row(
            "%.0f" % ts,
            MODE_NAMES[int(v["mode"])],
            "yes" if v["sunlit"] else "[yellow]eclipse[/]",
            "%.1f %%" % (100 * v["soc"]),
            "%.3f" % v["batt_v"],
            "%.2f" % v["rate_dps"],
            "%.1f" % v["temp_c"],
            "%.1f" % v["payload_c"],
        )
    console.print(t)
    cmds = Table(title="Commands (PUS-1 verification: 1 accepted, 3 started, 7 completed)")
    for col in ("command", "request", "reports"):
        cmds.add_column(col)
    rows = [(n, req) for n, _a, req in sent] + (
        [("  released from the schedule", scheduled)] if scheduled else []
    )
    for name, req in rows:
        cmds.add_row(name, "%d/%d" % req, " ".join(map(str, term.verdict(req))) or "[red]none[/]")
    console.print(cmds)
    ev = Table(title="Events (PUS-5)")
    ev.add_column("t [s]", justify="right")
    ev.add_column("event")
    for ts, name, aux in term.events[-14:]:
        ev.add_row("%.0f" % ts, "%s %s" % (name, " ".join("%s=%s" % kv for kv in aux.items())))
    console.print(ev)
    dl = term.dl
    app = twin.app
    link = Table(title="Link statistics (BER %.0e both ways, RS I=%d dual basis)" % (ber, interleave))
    link.add_column("counter")
    link.add_column("value", justify="right")
    farm = app.comms.farm.counts
    for name, value in (
        (
            "CADUs in sync / ASM misses / slips",
            "%d / %d / %d" % (dl.dec.sync.frames, dl.dec.sync.asm_misses, dl.dec.sync.slips),
        ),
        (
            "RS corrected symbols / uncorrectable",
            "%d / %d" % (dl.dec.corrected_symbols, dl.dec.uncorrectable),
        ),
        ("TM frames CRC failures / lost frames", "%d / %d" % (dl.crc_failures, dl.ext.lost_frames)),
        ("TM packets / idle packets", "%d / %d" % (dl.ext.packets, dl.ext.idle_packets)),
        (
            "CLTUs received / aborted / BCH corrections",
            "%d / %d / %d" % (app.comms.rx.cltus, app.comms.rx.aborted, app.comms.rx.corrected_bits),
        ),
        (
            "COP-1: acknowledged / retransmitted / alerts",
            "%d / %d / %d" % (term.fop.acknowledged, term.fop.retransmissions, len(term.fop.alerts)),
        ),
        (
            "FARM-1: accepted / duplicate / ahead / lockouts",
            "%d / %d / %d / %d" % (farm["accept"], farm["duplicate"], farm["ahead"], farm["locked"]),
        ),
        (
            "flight: commands ok / failed, task errors",
            "%d / %d, %d" % (app.dispatcher.ok, app.dispatcher.failed, app.executive.errors()),
        ),
        ("flight: audit records, boot count", "%d, %d" % (app.audit.seq, app.boot.count)),
    ):
        link.add_row(name, value)
    console.print(link)
