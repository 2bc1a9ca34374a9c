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
from rich.markup import escape
from rich.table import Table

from flight.dictionary import APID, HK_SETS, MODE_NAMES, PARAM_IDS
from ground import DEFAULT_SCID
from ground.archive import Archive
from ground.flight_twin import FlightTwin, default_environment
from ground.lora_ground import BitErrors
from ground.terminal import Terminal, event_text
from protocols import lora
from protocols.pus import PusTm

SCID = DEFAULT_SCID


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


def _count_hk(app, generated: dict[int, int]) -> None:
    """Count the housekeeping reports the flight application generates, per set (periodic and one-shot).

    The twin is in-process, so the ground can read this from the spacecraft itself: the number to
    hold the ground's count against (the flight software downlinks no per-set report counter)."""
    report = app.hk_report

    def counted(sid: int) -> None:
        generated[sid] = generated.get(sid, 0) + 1
        report(sid)

    app.hk_report = counted


def _queued_hk(app) -> dict[int, int]:
    """Housekeeping reports still in the onboard TM queue (generated, not yet downlinked), per set."""
    out: dict[int, int] = {}
    for pkt in app.tm_queue:
        tm = PusTm.unpack(pkt)
        if (tm.service, tm.subtype) == (3, 25) and tm.source_data:
            out[tm.source_data[0]] = out.get(tm.source_data[0], 0) + 1
    return out


def run_mission(
    seconds: int = 5400,
    ber: float = 2e-4,
    interleave: int = 5,
    seed: int = 1,
    out_dir: str | None = "out",
    link: str = "uart",
    stats: dict | None = None,
) -> bool:
    """Fly the scripted pass; True when every command was verified and no telemetry was lost.

    link "uart": the byte link of a wired board (the channel flips bits at `ber`). link "lora": the
    board's SX1276 on the simulated radio medium (protocols.lora: one 255-byte CADU per packet, I=1,
    shortened frames; CLTUs in packets), with the medium flipping bits at `ber` and every packet
    taking its LoRa time on air; `interleave` is then the profile's (1). A `stats` dict gets the
    pass's figures (commands verified, and for LoRa what the radios carried)."""
    lora_link = link == "lora"
    if lora_link:
        interleave = lora.INTERLEAVE
    console = Console()
    title = "cubesat mission: %d s of flight software on the twin, full space link%s" % (
        seconds,
        " over LoRa" if lora_link else "",
    )
    if console.width >= len(title) + 6:
        console.rule(title)
    else:  # a narrow terminal: the whole title on its own lines rather than cut off by the rule
        console.rule()
        console.print(title)
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="mission-flash-") as flash:
        twin = FlightTwin(
            flash, default_environment(tumble_dps=5.0, soc=0.8), interleave=interleave, link=link
        )
        generated: dict[int, int] = {}
        counted_app = twin.app
        _count_hk(counted_app, generated)
        if lora_link:
            # the radio channel damages the packets; nothing else does
            twin.world.medium.damage = BitErrors(ber, seed)
            channel_ber = 0.0
            # a round trip is an uplink packet, the board's turn-taking gap and a downlink packet,
            # each up to 1.25 s on air at SF9: FOP-1 waits longer before it sends a frame again
            term = Terminal(SCID, APID, interleave=interleave, frame_len=lora.FRAME_LEN, t1_ms=12000)
        else:
            channel_ber = ber
            term = Terminal(SCID, APID, interleave=interleave)
        script = _script()
        sent: list[tuple[str, dict, tuple[int, int]]] = []
        scheduled = None
        oneshots: dict[tuple[int, int], int] = {}  # hk_oneshot request -> set
        term.start(0)
        for tick in range(seconds * 10):
            now_ms = tick * 100
            if now_ms % 1000 == 0 and now_ms // 1000 in script:
                name, args = script[now_ms // 1000]
                if name == "schedule_insert":
                    inner = term.build("hk_oneshot", {"sid": 1})
                    scheduled = term.expect(inner, "hk_oneshot (time-tagged)")
                    oneshots[scheduled] = 1
                    args = {"release_s": int(twin.app.obt()) + 120, "command": inner}
                sent.append((name, args, term.command(name, args)))
                if name == "hk_oneshot":
                    oneshots[sent[-1][2]] = args["sid"]
            if tick % 2 == 0:
                up = term.uplink(now_ms)
                if up:
                    twin.link.ground_write(flip_bits(up, channel_ber, rnd))
            twin.step()
            if twin.app is not counted_app:  # the board reset: count on the new flight application
                counted_app = twin.app
                _count_hk(counted_app, generated)
            down = twin.link.ground_read()
            if down:
                term.downlink(flip_bits(down, channel_ber, rnd), now_ms)
        app = twin.app
        queued = _queued_hk(app)
        received = _received_hk(term)
        _print_summary(console, term, twin, sent, scheduled, ber, interleave, generated, queued, oneshots)
        if lora_link:
            _print_lora(console, twin)
        if out_dir is not None:
            _archive_and_plot(console, Path(out_dir), term, sent)
        verified = [req for _n, _a, req in sent] + ([scheduled] if scheduled else [])
        completed = sum(1 for r in verified if term.verdict(r) == [1, 3, 7])
        # every report generated onboard reached the ground, but for those still queued at the end
        missing = {sid: n - queued.get(sid, 0) - received.get(sid, 0) for sid, n in generated.items()}
        ok = (
            completed == len(verified)
            and not any(missing.values())
            and term.dl.ext.lost_frames == 0
            and app.executive.errors() == 0
            and not term.fop.alerts
        )
        if stats is not None:
            stats.update(verified=completed, commands=len(verified), lost_frames=term.dl.ext.lost_frames)
            stats["rs_corrected"] = term.dl.dec.corrected_symbols
            stats["rs_uncorrectable"] = term.dl.dec.uncorrectable
            if lora_link:
                stats.update(lora_stats(twin))
        final = MODE_NAMES[app.modes.mode]
        core_rx, core_gen = received.get(1, 0), generated.get(1, 0)
        if ok:
            console.print(
                "[bold green]PASS[/] every command verified (%d of %d completed), mode %s, no task errors"
                % (completed, len(verified), final)
            )
        else:
            console.print(
                "[bold red]FAIL[/] commands or telemetry were lost (%d of %d commands completed, "
                "%d lost frames, FOP alerts %s, task errors %d)"
                % (completed, len(verified), term.dl.ext.lost_frames, term.fop.alerts, app.executive.errors())
            )
        console.print(
            "     housekeeping set 1: %d reports received of %d generated onboard" % (core_rx, core_gen)
            + ("" if core_rx + queued.get(1, 0) == core_gen else " (%d lost)" % missing.get(1, 0))
        )
        return ok


def _received_hk(term: Terminal) -> dict[int, int]:
    out: dict[int, int] = {}
    for _t, sid, _v in term.hk:
        out[sid] = out.get(sid, 0) + 1
    return out


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
        ("mode", "mode (%s)" % " ".join("%d %s" % m for m in enumerate(MODE_NAMES) if m[0])),
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
    console.print("archive: %s (%d samples, %d events)" % (db, len(rows), len(term.events)), soft_wrap=True)
    console.print("plot:    %s" % png, soft_wrap=True)


def _print_summary(
    console, term: Terminal, twin: FlightTwin, sent, scheduled, ber, interleave, generated, queued, oneshots
) -> None:
    core = [(t, v) for t, sid, v in term.hk if sid == 1]
    shown = core[:: max(1, len(core) // 12)]
    t = Table(
        title="Housekeeping set 1 decoded on the ground (%d of %d reports shown)" % (len(shown), len(core))
    )
    for col in (
        "t\n[s]",
        "mode",
        "sunlit",
        "SoC",
        "battery\n[V]",
        "rate\n[deg/s]",
        "temp\n[C]",
        "payload\n[C]",
    ):
        t.add_column(escape(col), justify="right")  # escaped: "[s]" would be read as rich markup
    for ts, v in shown:
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
    rows = [(n, req) for n, _a, req in sent] + (
        [("  released from the schedule", scheduled)] if scheduled else []
    )
    done = sum(1 for _n, req in rows if 7 in term.verdict(req))
    cmds = Table(title="Commands: %d sent, %d completed (PUS-1 verification stages)" % (len(rows), done))
    for col in ("command", "APID", "seq", "verification reports received"):
        cmds.add_column(col, justify="right" if col in ("APID", "seq") else "left")
    for name, req in rows:
        cmds.add_row(name, str(req[0]), str(req[1]), term.stages(req) or "[red]none[/]")
    console.print(cmds)
    hk = Table(title="Housekeeping reports (PUS 3,25) per set")
    for col in ("set", "generated onboard", "one-shot (commanded)", "received on the ground"):
        hk.add_column(col, justify="left" if col == "set" else "right")
    received: dict[int, int] = {}
    for _t, sid, _v in term.hk:
        received[sid] = received.get(sid, 0) + 1
    for sid in sorted(set(generated) | set(received)):
        n_oneshot = sum(1 for req, s in oneshots.items() if s == sid and 7 in term.verdict(req))
        rx = "%d" % received.get(sid, 0)
        if queued.get(sid):
            rx += " (%d still queued onboard)" % queued[sid]
        name = HK_SETS[sid][0] if sid in HK_SETS else "?"
        hk.add_row("%d %s" % (sid, name), "%d" % generated.get(sid, 0), "%d" % n_oneshot, rx)
    console.print(hk)
    ev = Table(title="Events (PUS-5)")
    ev.add_column("t [s]", justify="right")
    ev.add_column("event")
    for ts, name, aux in term.events[-14:]:
        ev.add_row("%.0f" % ts, event_text(name, aux))
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


def lora_stats(twin: FlightTwin) -> dict:
    """What the LoRa link carried in the pass, measured on the simulated radios."""
    gs = twin.link
    chip = twin.world.board.chips["sx1276"]
    medium = twin.world.medium
    fl = twin.flight_link
    return {
        "cadu_bytes": lora.CADU_LEN,
        "frame_len": lora.FRAME_LEN,
        "virtual_fill": lora.VIRTUAL_FILL,
        "cadu_air_us": chip.time_on_air_us(lora.CADU_LEN),
        "symbol_us": chip.symbol_us(),
        "downlink_packets": fl.packets_out,
        "cadus_received": gs.cadus_in,
        "beacons_received": len(gs.beacons),
        "uplink_packets": gs.packets_out,
        "uplink_largest": gs.largest_packet,
        "downlink_sizes": sorted(gs.sizes_in),
        "board_packets_in": fl.packets_in,
        "bit_errors": medium.bit_errors,
        "damaged_packets": medium.corrupted,
        "collisions": medium.collisions,
        "lost": medium.lost,
        "deferrals": fl.deferrals,
    }


def _print_lora(console: Console, twin: FlightTwin) -> None:
    s = lora_stats(twin)
    t = Table(
        title="LoRa link (SF%d, %d kHz, CR 4/%d, radio CRC %s; one CADU per packet)"
        % (lora.SF, lora.BW_HZ // 1000, lora.CR, "on" if lora.CRC else "off")
    )
    t.add_column("counter")
    t.add_column("value", justify="right")
    rate = 8 * s["cadu_bytes"] / (s["cadu_air_us"] / 1e6)
    # datasheet 4.1.1.3: Rb = SF * (4 / (4 + CR)) / (2^SF / BW), CR 1..4 (lora.CR counts 5..8)
    bit_rate = lora.SF * 4 / lora.CR / (s["symbol_us"] / 1e6)
    for name, value in (
        (
            "CADU: ASM + frame + RS check symbols",
            "4 + %d + 32 = %d bytes (%d bytes virtual fill)"
            % (s["frame_len"], s["cadu_bytes"], s["virtual_fill"]),
        ),
        (
            "time on air per CADU (LoRa bit rate)",
            "%.1f ms, %.0f bit/s of CADU (%.0f bit/s)" % (s["cadu_air_us"] / 1000, rate, bit_rate),
        ),
        (
            "downlink packets sent / CADUs received / beacons",
            "%d / %d / %d" % (s["downlink_packets"], s["cadus_received"], s["beacons_received"]),
        ),
        (
            "uplink packets sent / received on board (largest)",
            "%d / %d (%d bytes)" % (s["uplink_packets"], s["board_packets_in"], s["uplink_largest"]),
        ),
        (
            "bit errors / damaged packets / collisions / lost",
            "%d / %d / %d / %d" % (s["bit_errors"], s["damaged_packets"], s["collisions"], s["lost"]),
        ),
    ):
        t.add_row(name, value)
    console.print(t)
