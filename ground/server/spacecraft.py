"""One spacecraft link owned by the server: a thread, a Terminal (COP-1 FOP + SDLS) for the
server's whole life, and every downlinked packet decoded, archived and published.

Clients never touch the link: they `submit` commands (checked against the dictionary and the
user's role before anything goes up) and read what the thread recorded.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flight.dictionary import PARAM_IDS
from ground.dictionary import (
    BadCommandError,
    Command,
    PermissionDenied,
    build_tc,
    check_permission,
    command,
    command_of,
    embedded_args,
    embedded_tc,
)
from ground.downlink import Downlink
from ground.pus import EVENT_REPORTING, VERIFICATION, housekeeping
from ground.sdls_counter import CounterError, SequenceCounter
from ground.server.auth import User
from ground.server.clock import WALL, Clock
from ground.server.config import SpacecraftConfig
from ground.server.decode import decode_tm, onboard_time
from ground.server.errors import CommandRefusedError, ConfigError, ForbiddenError
from ground.server.linkio import KissStream, read_key
from ground.server.live import LiveHub
from ground.server.playback import PlaybackPlanner
from ground.server.records import CommandRecord
from ground.server.store import GroundStore
from ground.server.tracking import CommandTracker
from ground.server.transfers import LinkTransfers
from ground.server.yamcs_front import YamcsFrontEnd
from ground.terminal import Terminal
from ground.transport import ReconnectingLink, open_link
from protocols import cltu, errors
from protocols.pus import PusTc, PusTm
from protocols.sync import SEARCH

log = logging.getLogger("cubesat.ground")
SN_BLOCK = 1 << 16  # anti-replay numbers reserved at a time (KEY_FILE.sn, shared with `cubesat send`)
STATS_EVERY_S = 10.0
SEEN_KEYS = 200_000  # packets remembered to tell a played-back duplicate (days of housekeeping)


def _fields(**fields: Any) -> dict[str, Any]:
    """`extra=` for a structured log record (ground.server.logs writes them as JSON fields)."""
    return {"fields": fields}


def _with_param_names(values: dict[str, Any]) -> dict[str, Any]:
    """param_id given by name ("comms.beacon_s") -> its number, as the flight dictionary says."""
    pid = values.get("param_id")
    if isinstance(pid, str) and not pid.strip().isdigit():
        if pid not in PARAM_IDS:
            known = ", ".join(sorted(PARAM_IDS))
            raise CommandRefusedError("unknown parameter %r; known: %s" % (pid, known))
        values = dict(values, param_id=PARAM_IDS[pid])
    return values


def _sync(sync: Any) -> dict[str, Any]:
    """The CADU synchronizer: locked or searching, and what it took to stay so."""
    return {
        "locked": sync.state != SEARCH, "cadus": sync.frames, "asm_misses": sync.asm_misses,
        "lock_losses": sync.lock_losses, "slips": sync.slips, "bytes_skipped": sync.bytes_skipped,
    }  # fmt: skip


def _clcw(clcw: Any) -> dict[str, Any] | None:
    """The last CLCW the spacecraft sent: its FARM-1's state as the ground last saw it."""
    if clcw is None:
        return None
    names = ("report_value", "lockout", "wait", "retransmit", "farm_b_counter", "no_rf", "no_bitlock")
    return {name: int(getattr(clcw, name)) for name in names}


class SpacecraftLink:
    """clock: the wall clock, or a simulated one with the link stepped by its driver (`step`)
    instead of its own thread. opener: what opens the byte link (default: the config's URL).
    files_dir: this spacecraft's file transfers folder (ground/server/transfers.py)."""

    def __init__(
        self, cfg: SpacecraftConfig, store: GroundStore, hub: LiveHub, clock: Clock = WALL,
        opener: Callable[[], Any] | None = None, files_dir: str | None = None,
    ) -> None:  # fmt: skip
        self.cfg = cfg
        self.clock = clock
        self.name = cfg.name
        self.scid = cfg.scid
        self.store = store
        self.hub = hub
        key = read_key(cfg.key_file) if cfg.key_file else None
        self.term = Terminal(
            cfg.scid, cfg.apid, key, cfg.interleave, t1_ms=cfg.t1_ms, frame_len=cfg.frame_len
        )
        self.dl = Downlink(
            cfg.scid, cfg.interleave, frame_len=cfg.frame_len, keep_raw=True, dual_basis=cfg.dual_basis
        )  # raw: archive
        self.term.dl = self.dl
        self.term.seq = int(clock.time() * 1000) & 0x3FFF  # request ids unlike a previous run's
        self._counter = SequenceCounter(cfg.key_file + ".sn", SN_BLOCK) if cfg.key_file else None
        self._sn_end = 0
        self._reserve_sn()
        self.lock = threading.RLock()
        # CFDP: its sink goes on self.dl, the Downlink the Terminal uses from here on
        self.files = LinkTransfers(self, files_dir or "transfers/%s" % cfg.name)
        self.commands = CommandTracker(cfg.scid, cfg.name, store, hub, clock)
        self.records = self.commands.records  # id -> record, the last KEEP_RECORDS of them
        self.latest: dict[str, tuple[float, float]] = {}  # parameter -> (onboard t, value)
        self.packets = 0
        # packets of this session by (apid, seq, service, subtype, onboard time): a played-back
        # copy of one is a duplicate; for older ones the archive answers
        self._seen: OrderedDict[tuple, None] = OrderedDict()
        self.playback = {"new": 0, "duplicates": 0}
        self.link = ReconnectingLink(opener or self._open)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="link-%s" % cfg.name, daemon=True)
        self._t0 = clock.monotonic()
        self._alerts_seen = 0
        self._foreign_seen: set[int] = set()  # other SCIDs whose frames were logged once
        self._last_stats = clock.monotonic()
        self.yamcs = YamcsFrontEnd(cfg.yamcs) if cfg.yamcs else None
        self.planner = PlaybackPlanner(self, store, cfg.playback) if cfg.playback else None
        if self.yamcs is not None:
            self.dl.frame_sink = self.yamcs.forward
            self._yamcs_user = User("yamcs", cfg.yamcs.role)

    def _open(self) -> Any:
        link = open_link(self.cfg.link.url())
        return KissStream(link) if self.cfg.link.kiss else link

    def _reserve_sn(self) -> None:
        """A block of SDLS sequence numbers no `cubesat send` (or other server) will use."""
        sa = self.term.sa
        if sa is None or self._counter is None:
            return
        try:
            start = self._counter.reserve()
        except CounterError as exc:
            raise ConfigError(str(exc)) from None
        sa.last_sn = max(sa.last_sn, start)
        self._sn_end = sa.last_sn + SN_BLOCK

    def now_ms(self) -> int:
        return int((self.clock.monotonic() - self._t0) * 1000)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self, thread: bool = True) -> None:
        """thread=False: the driver calls `step()` (a simulated clock)."""
        self.term.start(self.now_ms())
        if thread:
            self._thread.start()
        log.info("link started", extra=_fields(spacecraft=self.name, url=self.cfg.link.url()))

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.link.close()
        self.store.add_link_stats(self.scid, self.stats())
        if self.yamcs is not None:
            self.yamcs.close()

    # --- commanding (any thread) --------------------------------------------------------------------
    def submit(self, user: User, name: str, args: dict[str, Any], confirm: bool = False) -> CommandRecord:
        """Check (dictionary, range, role, confirmation), queue on COP-1 and archive.

        Never waits for the link: the link thread sends it within a few milliseconds."""
        try:
            cmd = command(name)
            check_permission(cmd, user.role, confirm)
            values = _with_param_names(args)
            build_tc(name, values, self.cfg.apid, 0, user.role, confirm)  # every argument checked
        except PermissionDenied as exc:
            raise ForbiddenError(str(exc)) from None
        except BadCommandError as exc:
            raise CommandRefusedError(str(exc)) from None
        with self.lock:
            seq = self.term.seq
            tc = build_tc(name, values, self.cfg.apid, seq, user.role, confirm)
            inner = embedded_args(name, values)
            self.term.seq = (seq + 1 + len(inner)) & 0x3FFF  # build_tc gave the embedded one seq + 1
            rec = self._queue(user, cmd, args, tc)
            for aname, text in inner:
                sub = embedded_tc(name, aname, text, self.cfg.apid, (seq + 1) & 0x3FFF, user.role, confirm)
                words = text.split()
                inner_args = dict(w.split("=", 1) for w in words[1:])
                carried = self.commands.add(
                    user,
                    command(words[0]),
                    inner_args,
                    (sub.apid, sub.seq_count),
                    "carried by command #%d" % rec.id,
                )
                rec.embedded = carried.id
                rec.publish()
            return rec

    def submit_packet(self, data: bytes, user: User) -> CommandRecord | None:
        """A telecommand packet made elsewhere (Yamcs: its sequence count, which its verifiers
        match): queued as it is if it is a dictionary command `user` may send. A refused one is
        logged; None."""
        try:
            tc = PusTc.unpack(data)
            cmd = command_of(tc)
            if cmd is None:
                raise BadCommandError(
                    "service %d.%d (data %s) is no dictionary command"
                    % (tc.service, tc.subtype, tc.app_data[:2].hex())
                )
            check_permission(cmd, user.role, True)  # the sender (Yamcs) confirmed it
        except (errors.ProtocolError, BadCommandError, PermissionDenied) as exc:
            log.warning(
                "telecommand from %s refused: %s" % (user.name, exc), extra=_fields(spacecraft=self.name)
            )
            return None
        with self.lock:
            return self._queue(user, cmd, {"app_data": tc.app_data.hex()}, tc)

    def _queue(self, user: User, cmd: Command, args: dict[str, Any], tc: PusTc) -> CommandRecord:
        """Onto COP-1 (the lock held), archived, and its reply awaited."""
        fop = self.term.fop
        if fop.suspended:
            log.warning("COP-1 suspended: initializing again", extra=_fields(spacecraft=self.name))
            self.commands.dropped(fop.restart(self.now_ms()))
        req = self.term.send_tc(tc, cmd.name)
        rec = self.commands.add(user, cmd, args, req, "COP-1 queue: %d frame(s)" % fop.pending())
        self.commands.forget_old(self.term)
        log.info(
            "command queued",
            extra=_fields(spacecraft=self.name, user=user.name, command=cmd.name, args=args, id=rec.id),
        )
        return rec

    # --- the link thread -------------------------------------------------------------------------------
    def step(self) -> None:
        """One cycle of the link, driven from outside (a simulated clock; `start(thread=False)`)."""
        self._cycle()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._cycle()
            except Exception:  # one bad packet or a bug must not stop the link
                log.exception("link cycle failed", extra=_fields(spacecraft=self.name))
                self._stop.wait(0.05)

    def _cycle(self) -> None:
        data = self.link.read(0.005)
        with self.lock:
            now = self.now_ms()
            if data:
                frames = self.dl.frames
                self.term.downlink(data, now)
                if self.planner is not None and self.dl.frames > frames:
                    self.planner.on_frames(self.clock.monotonic())
                self._ingest()
                if self.dl.foreign_scids - self._foreign_seen:
                    new = sorted(self.dl.foreign_scids - self._foreign_seen)
                    self._foreign_seen.update(new)
                    log.warning(
                        "frames of another spacecraft on this link: ignored and counted",
                        extra=_fields(spacecraft=self.name, scid=self.scid, foreign_scids=new),
                    )
            if self.term.unconfirmed:
                self.commands.dropped(self.term.unconfirmed)
                self.term.unconfirmed = []
            sa = self.term.sa
            if sa is not None and sa.last_sn > self._sn_end - 256:
                self._reserve_sn()
            if self.yamcs is not None:
                for packet in self.yamcs.poll():
                    if self.submit_packet(packet, self._yamcs_user) is None:
                        self.yamcs.refused += 1
            self.files.poll(now)
            frames = self.term.fop.poll(now)
            alerts = self.term.fop.alerts[self._alerts_seen :]
            self._alerts_seen += len(alerts)
        for alert in alerts:
            log.warning("COP-1 alert", extra=_fields(spacecraft=self.name, alert=alert))
        for frame in frames:
            self.link.write(cltu.encode(frame))
        if self.clock.monotonic() - self._last_stats > STATS_EVERY_S:
            self._last_stats = self.clock.monotonic()
            self.store.add_link_stats(self.scid, self.stats())

    def _ingest(self) -> None:
        term = self.term
        tapped, self.dl.raw = self.dl.raw, []
        # the Terminal's own lists would grow for ever in a server: the archive keeps everything
        term.hk.clear()
        term.events.clear()
        term.tm.clear()
        term.verification_tm.clear()
        term.playback.clear()
        for raw, tm in tapped:
            self._packet(raw, tm)

    def _packet(self, raw: bytes, tm: PusTm) -> None:
        t_ground = self.clock.time()
        t_onboard = onboard_time(tm)
        decoded = decode_tm(tm)
        header = (tm.apid, tm.seq_count, tm.service, tm.subtype)
        key = (*header, t_onboard)
        playback = "playback" in decoded
        if playback and (key in self._seen or self.store.has_packet(self.scid, key)):
            self.playback["duplicates"] += 1  # realtime or an earlier dump carried it: archived
            return
        if playback:
            self.playback["new"] += 1
        self._seen[key] = None
        if len(self._seen) > SEEN_KEYS:
            self._seen.popitem(last=False)
        pid = self.store.add_packet(self.scid, t_ground, t_onboard, header, raw, decoded)
        self.packets += 1
        item = {
            "kind": "tm", "id": pid, "scid": self.scid, "spacecraft": self.name, "t_ground": t_ground,
            "t_onboard": t_onboard, "apid": tm.apid, "seq": tm.seq_count, "service": tm.service,
            "subtype": tm.subtype, "data": decoded,
        }  # fmt: skip
        kind = (tm.service, tm.subtype)
        if playback:
            # history from an onboard store, merged into the archive where realtime missed it; never
            # a command's stage or reply, nor the latest value
            if kind == housekeeping.REPORT and "values" in decoded and t_onboard is not None:
                self.store.add_samples(self.scid, t_onboard, decoded["values"], playback=True)
            elif tm.service == EVENT_REPORTING and "event" in decoded:
                name, args, text = decoded["event"], decoded["args"], decoded["text"]
                self.store.add_event(self.scid, t_ground, t_onboard, tm.subtype, name, args, text, pid)
            self.hub.publish(item)
            return
        if kind == housekeeping.REPORT and "values" in decoded and t_onboard is not None:
            self.store.add_samples(self.scid, t_onboard, decoded["values"])
            for k, v in decoded["values"].items():
                self.latest[k] = (t_onboard, v)
        elif tm.service == EVENT_REPORTING and "event" in decoded:
            name, args, text = decoded["event"], decoded["args"], decoded["text"]
            self.store.add_event(self.scid, t_ground, t_onboard, tm.subtype, name, args, text, pid)
        self.commands.match_reply(kind, decoded, item)
        self.hub.publish(item)
        if self.planner is not None:
            self.planner.on_packet(kind, decoded, t_onboard)
        if tm.service == VERIFICATION and "request" in decoded:
            self.commands.verification(tm, decoded)

    # --- status ------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        dl, fop = self.dl, self.term.fop
        return {
            "frames": dl.frames, "crc_failures": dl.crc_failures, "lost_frames": dl.ext.lost_frames,
            "foreign_frames": dl.foreign_frames, "foreign_scids": sorted(dl.foreign_scids),
            "bad_packets": dl.bad_packets, "packets": self.packets, "playback": dict(self.playback),
            "rs_corrected": dl.dec.corrected_symbols, "rs_uncorrectable": dl.dec.uncorrectable,
            "sync": _sync(dl.dec.sync), "clcw": _clcw(dl.clcw),
            "cop1": {"suspended": fop.suspended, "initialized": fop._initialized, "pending": fop.pending(),
                     "acknowledged": fop.acknowledged, "retransmissions": fop.retransmissions,
                     "alerts": list(fop.alerts[-5:])},
            "link": {"up": self.link.link is not None, "reconnects": self.link.reconnects,
                     "failures": self.link.failures},
            **({} if self.yamcs is None else {"yamcs": self.yamcs.stats()}),
            **({} if self.planner is None else {"planner": self.planner.status()}),
        }  # fmt: skip

    def parameters(self) -> dict[str, tuple[float, float]]:
        with self.lock:
            return dict(self.latest)

    def status(self) -> dict[str, Any]:
        with self.lock:
            return {
                "name": self.name,
                "scid": self.scid,
                "link": self.cfg.link.url(),
                "secured": self.term.sa is not None,
                "stats": self.stats(),
            }
