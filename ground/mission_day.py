"""`cubesat mission --day`: a day of store and forward over one ground station.

The twin flies 24 simulated hours (or `hours`) with its link up only while the station sees the
spacecraft above its mask (ground.contact.ContactPipe). Out of contact the flight software keeps
every TM packet in its PUS-15 packet stores. The ground is the server's link code on the twin's
clock (ground.twin_ground) with its playback planner (ground/server/playback.py): at each AOS it
finds what the archive lacks since the mission's start and dumps the stores over those gaps, one
at a time, continuing in the next pass where a pass ended mid-dump.

After the day it flies on to the next pass, until that pass's dumps are done. The day passes when
every core housekeeping sample generated onboard in the day is then in the ground archive;
otherwise it fails and says which onboard times are missing. The plot shows the passes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ground.contact import ContactPipe
from ground.flight_twin import FlightTwin, default_environment
from ground.mission_report import HkCount, archive_path, hk_packets, title_rule
from ground.passes import Station, iso
from ground.server.config import PlaybackConfig
from ground.twin_ground import TwinGround

DEFAULT_STATION = "78.23,15.39,500,5"  # SvalSat, Svalbard: sees a polar orbit on most orbits
PLAYBACK_RATE = 20  # packets per second onboard (store_dump's rate)
NEXT_PASS_WITHIN_S = 12 * 3600.0  # after the day: the next pass must come (and finish) within this


@dataclass
class Contact:
    aos: float  # mission seconds
    los: float | None = None
    max_el: float = -90.0
    dumps: int = 0  # store dumps the planner started in this pass
    played_back: int = 0  # new packets played back from the stores in this pass
    ongoing: bool = False  # still in contact where the run stopped
    planner_aos: int = 0  # the planner's AOS count before this pass


@dataclass
class PassLog:
    """The contacts as the twin's link saw them, tick by tick, with what each one carried."""

    pipe: ContactPipe
    gs: TwinGround
    contacts: list[Contact] = field(default_factory=list)
    _mark: tuple[int, int] = (0, 0)  # the counters at this contact's AOS

    def probe(self) -> None:
        up = self.pipe.in_contact()
        t = self.gs.now()
        last = self.contacts[-1] if self.contacts else None
        if up and (last is None or last.los is not None):
            planner = self.gs.link.planner
            last = Contact(t, planner_aos=planner.aos if planner else 0)
            self.contacts.append(last)
            self._mark = self._counters()
        if last is not None and last.los is None:
            last.max_el = max(last.max_el, self.pipe.elevation_deg())
            dumps, played = self._counters()
            last.dumps, last.played_back = dumps - self._mark[0], played - self._mark[1]
            if not up:
                last.los = t

    def _counters(self) -> tuple[int, int]:
        planner = self.gs.link.planner
        return (planner.dumps if planner else 0, self.gs.link.playback["new"])

    def finish(self, t: float) -> list[Contact]:
        """The contacts, the one still up ended at `t` (where the run stops)."""
        if self.contacts and self.contacts[-1].los is None:
            self.contacts[-1].los = t
            self.contacts[-1].ongoing = True
        return self.contacts


def _dumped_after(log: PassLog, gs: TwinGround, day_s: float) -> bool:
    """A pass began after the day and the planner has played back everything it planned in it."""
    planner = gs.link.planner
    last = log.contacts[-1] if log.contacts else None
    return (
        last is not None
        and last.aos >= day_s
        and last.los is None
        and planner is not None
        and planner.aos > last.planner_aos
        and not planner.aos_pending
        and not planner.playing
        and not planner.queue
    )


def run_day(
    hours: float = 24.0,
    station: str = DEFAULT_STATION,
    ber: float = 2e-4,
    seed: int = 1,
    out_dir: str | None = "out",
    stats: dict | None = None,
) -> bool:
    """Fly `hours` of store and forward, then to the end of the next pass's dumps; True when the
    archive holds every core sample generated onboard in the `hours`."""
    console = Console()
    site = Station.parse(station)
    title_rule(
        console,
        "cubesat mission --day: %g h of store and forward over %.2f, %.2f"
        % (hours, site.lat_deg, site.lon_deg),
    )
    with tempfile.TemporaryDirectory(prefix="mission-day-") as scratch:
        flash = Path(scratch) / "flash"
        flash.mkdir()
        archive = archive_path(out_dir, scratch, "mission-day")
        twin = FlightTwin(flash, default_environment(tumble_dps=5.0, soc=0.8), station=site)
        count = HkCount(twin)
        t0_obt = float(twin.app.obt())
        playback = PlaybackConfig(rate=PLAYBACK_RATE, from_s=t0_obt)
        with TwinGround(twin, archive, ber=ber, seed=seed, playback=playback) as gs:
            pipe = twin.link
            assert isinstance(pipe, ContactPipe)
            log = PassLog(pipe, gs)
            gs.after_step += [count.probe, log.probe]
            day_s = hours * 3600.0
            gs.wait(day_s)
            day_end_obt = twin.app.obt()
            # then on to the next pass, until its dumps are done: the day's last samples come down
            settled = gs.wait_until(lambda: _dumped_after(log, gs, day_s), NEXT_PASS_WITHIN_S)
            contacts = log.finish(gs.now())
            generated = [t for t in count.core_times if t < day_end_obt]
            later = len(count.core_times) - len(generated)
            _, values = gs.samples("obt_s")
            have = {int(v) for v in values}
            missing = [t for t in generated if t not in have]
            packets = hk_packets(gs)
            _print_passes(console, gs, contacts)
            ok = settled and not missing and twin.app.executive.errors() == 0
            summary = {
                "hours": hours, "passes": len(contacts), "generated": len(generated),
                "archived": len(generated) - len(missing), "missing": len(missing), "after_the_day": later,
                "settled": settled, "flown_h": gs.now() / 3600.0,
                "played_back": gs.link.playback["new"], "duplicates": gs.link.playback["duplicates"],
                "dumps": gs.link.planner.dumps if gs.link.planner else 0,
                "contact_s": sum(c.los - c.aos for c in contacts if c.los is not None),
                "dropped_down": pipe.dropped_down, "task_errors": twin.app.executive.errors(),
            }  # fmt: skip
            if stats is not None:
                stats.update(summary, missing_times=missing[:1000])
            if out_dir is not None:
                png = _plot(Path(out_dir), gs, packets, contacts, count.core_times, t0_obt, day_s)
                console.print("archive: %s" % archive, soft_wrap=True)
                console.print("plot:    %s" % png, soft_wrap=True)
            _verdict(console, ok, summary, missing)
            return ok


def _print_passes(console: Console, gs: TwinGround, contacts: list[Contact]) -> None:
    if not contacts:
        return
    t = Table(title="Passes: realtime housekeeping and store playback in each")
    for col in ("AOS (UTC)", "length", "max elev", "core HK\nrealtime", "dumps", "played\nback"):
        t.add_column(col, justify="left" if col.startswith("AOS") else "right")
    epoch = gs.clock.epoch
    core_rt = [
        p["t_ground"] - epoch
        for p in hk_packets(gs)
        if p["data"]["sid"] == 1 and not p["data"].get("playback")
    ]
    for c in contacts:
        assert c.los is not None
        n = sum(1 for x in core_rt if c.aos <= x <= c.los + 1)
        t.add_row(
            iso(epoch + c.aos)[5:19].replace("T", " "),
            "%d:%02d%s" % (*divmod(int(c.los - c.aos), 60), " (on)" if c.ongoing else ""),
            "%.0f deg" % c.max_el, "%d" % n, "%d" % c.dumps, "%d" % c.played_back,
        )  # fmt: skip
    console.print(t)


def _ranges(times: list[int], period: int = 10) -> list[tuple[int, int, int]]:
    """Consecutive sample times as (first, last, samples) stretches."""
    out: list[tuple[int, int, int]] = []
    for t in times:
        if out and t - out[-1][1] <= period + 1:
            out[-1] = (out[-1][0], t, out[-1][2] + 1)
        else:
            out.append((t, t, 1))
    return out


def _verdict(console: Console, ok: bool, s: dict, missing: list[int]) -> None:
    line = "core housekeeping of the %g h: %d of %d samples generated onboard are in the archive" % (
        s["hours"],
        s["archived"],
        s["generated"],
    )
    detail = "     flown %.1f h%s: %d passes (%.0f min of contact), " % (
        s["flown_h"],
        ", to the end of the next pass's dumps" if s["settled"] else "",
        s["passes"],
        s["contact_s"] / 60,
    ) + "%d store dumps, %d packets played back (%d duplicates dropped)" % (
        s["dumps"],
        s["played_back"],
        s["duplicates"],
    )
    if ok:
        console.print("[bold green]PASS[/] " + line)
    else:
        console.print("[bold red]FAIL[/] " + line)
        for a, b, n in _ranges(missing)[:10]:
            console.print("     missing: onboard time %d..%d s (%d samples)" % (a, b, n))
        if not s["settled"]:
            console.print(
                "     no pass after the day finished its dumps within %g h" % (NEXT_PASS_WITHIN_S / 3600)
            )
        if s["task_errors"]:
            console.print("     flight task errors: %d" % s["task_errors"])
    console.print(detail)


def _plot(
    out: Path, gs: TwinGround, packets: list[dict], contacts: list[Contact], made: list[int], t0_obt: float,
    day_s: float,
) -> Path:  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    core = [p for p in packets if p["data"]["sid"] == 1]
    epoch = gs.clock.epoch
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    for playback, colour, label in ((False, "tab:blue", "realtime"), (True, "tab:orange", "played back")):
        pts = [p for p in core if bool(p["data"].get("playback")) == playback]
        ax1.plot(
            [p["t_onboard"] / 3600 for p in pts], [p["data"]["values"]["soc"] for p in pts], ".", ms=2,
            color=colour, label="%s (%d)" % (label, len(pts)),
        )  # fmt: skip
    ax1.set_ylabel("battery state of charge", fontsize=8)
    ax1.legend(fontsize=8, loc="lower left", markerscale=4)
    ground = sorted(p["t_ground"] - epoch for p in core)
    ax2.step(
        [(t - t0_obt) / 3600 for t in made], range(1, len(made) + 1), where="post", color="grey", ls="--",
        label="generated onboard",
    )  # fmt: skip
    ax2.step(
        [t / 3600 for t in ground], range(1, len(ground) + 1), where="post", label="in the ground archive"
    )
    ax2.set_ylabel("core housekeeping samples", fontsize=8)
    ax2.set_xlabel("mission time [h] (green: passes over the station; dotted: the end of the day)")
    for ax in (ax1, ax2):
        for c in contacts:
            ax.axvspan(c.aos / 3600, (c.los or c.aos) / 3600, color="green", alpha=0.25, lw=0)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(0, gs.now() / 3600)
        ax.axvline(day_s / 3600, color="black", ls=":", lw=1)
    ax2.legend(fontsize=8, loc="upper left")
    fig.suptitle(
        "cubesat mission --day: %d passes, housekeeping by when it was made and when it came down"
        % len(contacts)
    )
    fig.tight_layout()
    png = out / "mission-day.png"
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return png
