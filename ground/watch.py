"""`cubesat watch`: live telemetry from a link: latest values with limit colours, events and link counters."""

from __future__ import annotations

import time

from rich.console import Group
from rich.live import Live
from rich.table import Table

from flight.dictionary import TELEMETRY
from ground import DEFAULT_SCID
from ground.archive import Archive
from ground.dictionary import decode_hk, limit_state
from ground.downlink import Downlink
from ground.pus import EVENT_REPORTING, housekeeping
from ground.pus.events import decode_event, event_text
from ground.transport import open_link
from protocols.cuc import CucTime

COLOURS = {"ok": "green", "yellow": "yellow", "red": "bold red"}


class Watcher:
    def __init__(
        self, url: str, interleave: int = 5, archive: Archive | None = None, scid: int = DEFAULT_SCID
    ) -> None:
        self.link = open_link(url)
        self.downlink = Downlink(scid, interleave)  # other spacecraft's frames: counted, not shown
        self.archive = archive
        self.scid = scid
        self.values: dict[str, float] = {}
        self.t = None
        self.events: list[str] = []

    def poll(self, timeout: float = 0.05) -> int:
        """Read and decode what arrived; returns the number of housekeeping reports."""
        reports = 0
        for _frame, tm in self.downlink.feed(self.link.read(timeout)):
            if tm is None:
                continue
            t = CucTime.unpack(tm.timestamp).seconds()
            if (tm.service, tm.subtype) == housekeeping.REPORT:
                _sid, hk = decode_hk(tm.source_data)
                self.t = t
                self.values.update({k: float(v) for k, v in hk.items()})
                reports += 1
                if self.archive is not None:
                    # a restarted spacecraft's clock starts again: its samples go into a new epoch
                    epoch = self.archive.next_epoch(self.scid, t)
                    self.archive.ingest_samples(self.scid, [(k, t, float(v)) for k, v in hk.items()], epoch)
            elif tm.service == EVENT_REPORTING:
                name, aux = decode_event(tm.source_data)
                self.events.append("%.0f %s (severity %d)" % (t, event_text(name, aux), tm.subtype))
                if self.archive is not None:
                    self.archive.log_event(self.scid, t, tm.subtype, name, aux)
        return reports

    def render(self) -> Group:
        table = Table(
            title="Telemetry (onboard time %s s)" % ("%.0f" % self.t if self.t is not None else "-")
        )
        for col in ("parameter", "value", "unit", "limits"):
            table.add_column(col)
        for name in sorted(self.values):
            unit = TELEMETRY[name][0] if name in TELEMETRY else ""
            state = limit_state(name, self.values[name]) if name in TELEMETRY else "ok"
            table.add_row(name, "[%s]%.3f[/]" % (COLOURS[state], self.values[name]), unit, state)
        link = Table(title="Link")
        link.add_column("counter")
        link.add_column("value", justify="right")
        dl = self.downlink
        s = dl.dec.sync
        link.add_row("CADUs / ASM misses / slips", "%d / %d / %d" % (s.frames, s.asm_misses, s.slips))
        link.add_row(
            "RS corrected / uncorrectable", "%d / %d" % (dl.dec.corrected_symbols, dl.dec.uncorrectable)
        )
        link.add_row("frame CRC failures / lost frames", "%d / %d" % (dl.crc_failures, dl.ext.lost_frames))
        if dl.foreign_frames:
            link.add_row(
                "frames of other SCIDs (ignored)",
                "%d (%s)" % (dl.foreign_frames, ", ".join(str(s) for s in sorted(dl.foreign_scids))),
            )
        link.add_row("COP-1 (CLCW)", repr(dl.clcw) if dl.clcw else "-")
        parts = [table, link]
        if self.events:
            ev = Table(title="Events")
            ev.add_column("event")
            for e in self.events[-5:]:
                ev.add_row("[yellow]%s[/]" % e)
            parts.append(ev)
        return Group(*parts)

    def run(self, seconds: float, console=None) -> None:
        end = time.monotonic() + seconds
        with Live(self.render(), console=console, refresh_per_second=4) as live:
            while time.monotonic() < end:
                if self.poll():
                    live.update(self.render())

    def close(self) -> None:
        self.link.close()
