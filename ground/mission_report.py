"""What `cubesat mission` prints and plots: housekeeping, commands, events, link and radio
statistics, all read from the ground's archive and link counters, and what the spacecraft
generated onboard to hold them against."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from flight.dictionary import HK_SETS, MODE_NAMES
from ground.flight_twin import FlightTwin
from ground.pus import housekeeping
from ground.server.scripting import CommandResult
from ground.twin_ground import TwinGround
from protocols import lora
from protocols.pus import PusTm

CORE_SID = 1


def archive_path(out_dir: str | None, scratch: str, stem: str) -> str:
    """OUT/STEM.sqlite, new for this run (a run's archive is its own), or a scratch file."""
    if out_dir is None:
        return str(Path(scratch) / (stem + ".sqlite"))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    db = out / (stem + ".sqlite")
    for old in (db, out / (stem + ".sqlite-wal"), out / (stem + ".sqlite-shm")):
        old.unlink(missing_ok=True)
    return str(db)


def title_rule(console: Console, title: str) -> None:
    if console.width >= len(title) + 6:
        console.rule(title)
    else:  # a narrow terminal: the whole title on its own lines rather than cut off by the rule
        console.rule()
        console.print(title)


class HkCount:
    """The housekeeping reports the flight application generates, per set (periodic and one-shot),
    and the onboard time of each core report: what the ground's count is held against.

    The twin is in-process, so this is read from the spacecraft itself (the flight software
    downlinks no per-set report counter). `probe` after each tick follows a reset to the new
    application."""

    def __init__(self, twin: FlightTwin) -> None:
        self.twin = twin
        self.generated: dict[int, int] = {}
        self.core_times: list[int] = []  # obt_s of each core report
        self._app = None
        self.probe()

    def probe(self) -> None:
        app = self.twin.app
        if app is self._app:
            return
        self._app = app
        telemetry = app.telemetry
        report = telemetry.report

        def counted(sid: int) -> None:
            self.generated[sid] = self.generated.get(sid, 0) + 1
            if sid == CORE_SID:
                self.core_times.append(telemetry.value("obt_s"))
            report(sid)

        telemetry.report = counted


def queued_hk(app) -> dict[int, int]:
    """Housekeeping reports still in the onboard TM queue (generated, not yet downlinked), per set."""
    out: dict[int, int] = {}
    for pkt in app.tm_queue:
        tm = PusTm.unpack(pkt)
        if (tm.service, tm.subtype) == housekeeping.REPORT and tm.source_data:
            out[tm.source_data[0]] = out.get(tm.source_data[0], 0) + 1
    return out


def hk_packets(gs: TwinGround) -> list[dict]:
    """Every TM(3,25) the ground archived (realtime and played back), oldest first."""
    service, subtype = housekeeping.REPORT
    return [
        p
        for p in gs.telemetry(service=service, limit=10**7)
        if p["subtype"] == subtype and "sid" in p["data"]
    ]


def received_hk(gs: TwinGround) -> dict[int, int]:
    out: dict[int, int] = {}
    for p in hk_packets(gs):
        sid = int(p["data"]["sid"])
        out[sid] = out.get(sid, 0) + 1
    return out


def print_summary(
    console: Console, gs: TwinGround, twin: FlightTwin, results: list[tuple[str, CommandResult]],
    ber: float, interleave: int, generated: dict[int, int], queued: dict[int, int],
) -> None:  # fmt: skip
    packets = hk_packets(gs)
    core = [(p["t_onboard"], p["data"]["values"]) for p in packets if p["data"]["sid"] == CORE_SID]
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
    done = sum(1 for _label, r in results if r.ok)
    cmds = Table(title="Commands: %d sent, %d completed (PUS-1 verification stages)" % (len(results), done))
    for col in ("command", "APID", "seq", "verification reports received"):
        cmds.add_column(col, justify="right" if col in ("APID", "seq") else "left")
    for label, r in results:
        req = r.data["request"]
        stages = ", ".join(s for s in r.stages if s != "queued")
        cmds.add_row(label, str(req["apid"]), str(req["seq"]), stages or "[red]none[/]")
    console.print(cmds)
    hk = Table(title="Housekeeping reports (PUS 3,25) per set")
    for col in ("set", "generated onboard", "one-shot (commanded)", "received on the ground"):
        hk.add_column(col, justify="left" if col == "set" else "right")
    received: dict[int, int] = {}
    for p in packets:
        received[p["data"]["sid"]] = received.get(p["data"]["sid"], 0) + 1
    for sid in sorted(set(generated) | set(received)):
        n_oneshot = sum(1 for _l, r in results if r.data["name"] == "hk_oneshot" and r.ok and _sid(r) == sid)
        rx = "%d" % received.get(sid, 0)
        if queued.get(sid):
            rx += " (%d still queued onboard)" % queued[sid]
        name = HK_SETS[sid][0] if sid in HK_SETS else "?"
        hk.add_row("%d %s" % (sid, name), "%d" % generated.get(sid, 0), "%d" % n_oneshot, rx)
    console.print(hk)
    ev = Table(title="Events (PUS-5)")
    ev.add_column("t [s]", justify="right")
    ev.add_column("event")
    for e in gs.events(limit=10**6)[-14:]:
        ev.add_row("%.0f" % (e["t_onboard"] or 0), escape(e["text"]))
    console.print(ev)
    _print_link(console, gs, twin, ber, interleave)


def _sid(r: CommandResult) -> int:
    return int(r.data["args"].get("sid", -1))


def _print_link(console: Console, gs: TwinGround, twin: FlightTwin, ber: float, interleave: int) -> None:
    dl, fop = gs.link.dl, gs.link.term.fop
    app = twin.app
    link = Table(title="Link statistics (BER %.0e both ways, RS I=%d dual basis)" % (ber, interleave))
    link.add_column("counter")
    link.add_column("value", justify="right")
    farm = app.comms.farm.counts
    sync = dl.dec.sync
    for name, value in (
        ("CADUs in sync / ASM misses / slips", "%d / %d / %d" % (sync.frames, sync.asm_misses, sync.slips)),
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
            "%d / %d / %d" % (fop.acknowledged, fop.retransmissions, len(fop.alerts)),
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


def plot(console: Console, gs: TwinGround, out: Path, archive: str) -> None:
    """Plot from the archive, as an operator would: rate, battery and mode over the pass."""
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
        t, v = gs.samples(name)
        ax.plot([x / 60.0 for x in t], v, drawstyle="steps-post" if name == "mode" else "default")
        ax.set_ylabel(label, fontsize=8)
        ax.grid(True, alpha=0.3)
    t, sunlit = gs.samples("sunlit")
    minutes = [x / 60.0 for x in t]
    for ax in axes:
        ax.fill_between(
            minutes, 0, 1, where=[s < 0.5 for s in sunlit], transform=ax.get_xaxis_transform(),
            alpha=0.15, color="grey",
        )  # fmt: skip
    axes[-1].set_xlabel("onboard time [min] (grey: eclipse)")
    fig.suptitle("cubesat mission: housekeeping from the ground archive (SCID %d)" % gs.link.scid)
    fig.tight_layout()
    png = out / "mission.png"
    fig.savefig(png, dpi=90)
    plt.close(fig)
    n = sum(len(p["data"]["values"]) for p in hk_packets(gs))
    console.print(
        "archive: %s (%d samples, %d events)" % (archive, n, len(gs.events(limit=10**6))), soft_wrap=True
    )
    console.print("plot:    %s" % png, soft_wrap=True)


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


def print_lora(console: Console, twin: FlightTwin) -> None:
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
