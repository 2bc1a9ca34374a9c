"""One spacecraft link owned by the server: a thread, a Terminal (COP-1 FOP + SDLS) for the
server's whole life, and every downlinked packet decoded, archived and published.

Clients never touch the link: they `submit` commands (checked against the dictionary and the
user's role before anything goes up) and read what the thread recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from flight.dictionary import PARAM_IDS
from ground.dictionary import (
    Command,
    CommandError,
    PermissionDenied,
    build_tc,
    check_permission,
    command,
    command_of,
    failure_summary,
    reason_text,
)
from ground.downlink import Downlink
from ground.sdls_counter import CounterError, SequenceCounter
from ground.server.auth import User
from ground.server.config import SpacecraftConfig
from ground.server.decode import REPLY_EVENT, REPLY_TO, decode_tm, onboard_time
from ground.server.errors import CommandRefusedError, ConfigError, ForbiddenError
from ground.server.linkio import KissStream, read_key
from ground.server.live import LiveHub
from ground.server.playback import PlaybackPlanner
from ground.server.records import FINAL, CommandRecord
from ground.server.store import GroundStore
from ground.server.yamcs_front import YamcsFrontEnd
from ground.terminal import VERIFICATION_STAGES, Terminal
from ground.transport import ReconnectingLink, open_link
from protocols import cltu, errors
from protocols.pus import PusTc, PusTm

log = logging.getLogger("cubesat.ground")
SN_BLOCK = 1 << 16  # anti-replay numbers reserved at a time (KEY_FILE.sn, shared with `cubesat send`)
KEEP_RECORDS = 2000  # commands kept in memory; all of them are in the archive
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


class SpacecraftLink:
    def __init__(self, cfg: SpacecraftConfig, store: GroundStore, hub: LiveHub) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.scid = cfg.scid
        self.store = store
        self.hub = hub
        key = read_key(cfg.key_file) if cfg.key_file else None
        self.term = Terminal(cfg.scid, cfg.apid, key, cfg.interleave)
        self.dl = Downlink(cfg.scid, cfg.interleave, keep_raw=True, dual_basis=cfg.dual_basis)  # raw: archive
        self.term.dl = self.dl
        self.term.seq = int(time.time() * 1000) & 0x3FFF  # request ids unlike a previous run's
        self._counter = SequenceCounter(cfg.key_file + ".sn", SN_BLOCK) if cfg.key_file else None
        self._sn_end = 0
        self._reserve_sn()
        self.lock = threading.RLock()
        self.records: dict[int, CommandRecord] = {}
        self._by_req: dict[tuple[int, int], CommandRecord] = {}
        self._awaiting_reply: list[CommandRecord] = []
        self.latest: dict[str, tuple[float, float]] = {}  # parameter -> (onboard t, value)
        self.packets = 0
        # packets of this session by (apid, seq, service, subtype, onboard time): a played-back
        # copy of one is a duplicate; for older ones the archive answers
        self._seen: OrderedDict[tuple, None] = OrderedDict()
        self.playback = {"new": 0, "duplicates": 0}
        self.link = ReconnectingLink(self._open)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="link-%s" % cfg.name, daemon=True)
        self._t0 = time.monotonic()
        self._alerts_seen = 0
        self._foreign_seen: set[int] = set()  # other SCIDs whose frames were logged once
        self._last_stats = time.monotonic()
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
        return int((time.monotonic() - self._t0) * 1000)

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self.term.start(self.now_ms())
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
        except CommandError as exc:
            raise CommandRefusedError(str(exc)) from None
        with self.lock:
            tc = build_tc(name, values, self.cfg.apid, self.term.seq, user.role, confirm)
            self.term.seq = (self.term.seq + 1) & 0x3FFF
            return self._queue(user, cmd, args, tc)

    def submit_packet(self, data: bytes, user: User) -> CommandRecord | None:
        """A telecommand packet made elsewhere (Yamcs: its sequence count, which its verifiers
        match): queued as it is if it is a dictionary command `user` may send. A refused one is
        logged; None."""
        try:
            tc = PusTc.unpack(data)
            cmd = command_of(tc)
            if cmd is None:
                raise CommandError(
                    "service %d.%d (data %s) is no dictionary command"
                    % (tc.service, tc.subtype, tc.app_data[:2].hex())
                )
            check_permission(cmd, user.role, True)  # the sender (Yamcs) confirmed it
        except (errors.ProtocolError, CommandError, PermissionDenied) as exc:
            log.warning(
                "telecommand from %s refused: %s" % (user.name, exc), extra=_fields(spacecraft=self.name)
            )
            return None
        with self.lock:
            return self._queue(user, cmd, {"app_data": tc.app_data.hex()}, tc)

    def _queue(self, user: User, cmd: Command, args: dict[str, Any], tc: PusTc) -> CommandRecord:
        """Onto COP-1 (the lock held), archived, and its reply awaited."""
        name = cmd.name
        fop = self.term.fop
        if fop.suspended:
            log.warning("COP-1 suspended: initializing again", extra=_fields(spacecraft=self.name))
            self._dropped(fop.restart(self.now_ms()))
        req = self.term.send_tc(tc, name)
        cid = self.store.add_command(self.scid, user.name, user.role, name, args, *req)
        rec = CommandRecord(cid, self.scid, user.name, name, dict(args), req, (cmd.service, cmd.subtype))
        self.records[cid] = rec
        self._by_req[req] = rec
        if rec.kind in REPLY_TO or name in REPLY_EVENT:
            self._awaiting_reply.append(rec)
        self._stage(rec, "queued", None, "COP-1 queue: %d frame(s)" % fop.pending())
        while len(self.records) > KEEP_RECORDS:  # the archive keeps them all; memory keeps the last
            old = self.records.pop(next(iter(self.records)))
            term = self.term
            for table in (self._by_req, term.sent, term.reports, term.failures, term.reasons):
                table.pop(old.request, None)
        log.info(
            "command queued",
            extra=_fields(spacecraft=self.name, user=user.name, command=name, args=args, id=cid),
        )
        return rec

    def _stage(
        self, rec: CommandRecord, stage: str, subtype: int | None, detail: str = "",
        status: str | None = None, code: int | None = None,
    ) -> None:  # fmt: skip
        rec.add(stage, subtype, detail, status)
        self.store.add_stage(rec.id, stage, subtype, detail, status, code)
        self.hub.publish({"kind": "command", "scid": self.scid, "spacecraft": self.name, **rec.publish()})

    def _dropped(self, frames: list[bytes]) -> None:
        for data in frames:
            try:
                tc = PusTc.unpack(data)
            except errors.ProtocolError:
                continue
            rec = self._by_req.get((tc.apid, tc.seq_count))
            if rec is not None and not rec.done:
                why = "in flight when COP-1 restarted (spacecraft reset?): not resent"
                self._stage(rec, "unconfirmed", None, why, "unconfirmed")

    # --- the link thread -------------------------------------------------------------------------------
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
                    self.planner.on_frames(time.monotonic())
                self._ingest()
                if self.dl.foreign_scids - self._foreign_seen:
                    new = sorted(self.dl.foreign_scids - self._foreign_seen)
                    self._foreign_seen.update(new)
                    log.warning(
                        "frames of another spacecraft on this link: ignored and counted",
                        extra=_fields(spacecraft=self.name, scid=self.scid, foreign_scids=new),
                    )
            if self.term.unconfirmed:
                self._dropped(self.term.unconfirmed)
                self.term.unconfirmed = []
            sa = self.term.sa
            if sa is not None and sa.last_sn > self._sn_end - 256:
                self._reserve_sn()
            if self.yamcs is not None:
                for packet in self.yamcs.poll():
                    if self.submit_packet(packet, self._yamcs_user) is None:
                        self.yamcs.refused += 1
            frames = self.term.fop.poll(now)
            alerts = self.term.fop.alerts[self._alerts_seen :]
            self._alerts_seen += len(alerts)
        for alert in alerts:
            log.warning("COP-1 alert", extra=_fields(spacecraft=self.name, alert=alert))
        for frame in frames:
            self.link.write(cltu.encode(frame))
        if time.monotonic() - self._last_stats > STATS_EVERY_S:
            self._last_stats = time.monotonic()
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
        t_ground = time.time()
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
            if kind == (3, 25) and "values" in decoded and t_onboard is not None:
                self.store.add_samples(self.scid, t_onboard, decoded["values"], playback=True)
            elif tm.service == 5 and "event" in decoded:
                name, args, text = decoded["event"], decoded["args"], decoded["text"]
                self.store.add_event(self.scid, t_ground, t_onboard, tm.subtype, name, args, text, pid)
            self.hub.publish(item)
            return
        if kind == (3, 25) and "values" in decoded and t_onboard is not None:
            self.store.add_samples(self.scid, t_onboard, decoded["values"])
            for k, v in decoded["values"].items():
                self.latest[k] = (t_onboard, v)
        elif tm.service == 5 and "event" in decoded:
            name, args, text = decoded["event"], decoded["args"], decoded["text"]
            self.store.add_event(self.scid, t_ground, t_onboard, tm.subtype, name, args, text, pid)
        self._match_reply(kind, decoded, item)
        self.hub.publish(item)
        if self.planner is not None:
            self.planner.on_packet(kind, decoded, t_onboard)
        if tm.service == 1 and "request" in decoded:
            self._verification(tm, decoded)

    def _match_reply(self, kind: tuple[int, int], decoded: dict, item: dict) -> None:
        """The oldest accepted command waiting for this kind of TM gets it as its reply."""
        for rec in self._awaiting_reply:
            if not rec.has("accepted"):
                continue
            if rec.name in REPLY_EVENT:
                if decoded.get("event") != REPLY_EVENT[rec.name]:
                    continue
            elif REPLY_TO.get(rec.kind) != kind:
                continue
            if kind == (3, 25) and str(decoded.get("sid")) != str(rec.args.get("sid")):
                continue
            rec.reply = {"packet_id": item["id"], "t_onboard": item["t_onboard"], **decoded}
            rec.publish()
            self._awaiting_reply.remove(rec)
            self.store.set_reply(rec.id, item["id"])
            return

    def _verification(self, tm: PusTm, decoded: dict) -> None:
        req = (decoded["request"]["apid"], decoded["request"]["seq"])
        rec = self._by_req.get(req)
        if rec is None or rec.has(VERIFICATION_STAGES.get(tm.subtype, "")):
            return  # another ground's command, or a repeated report
        failure = decoded.get("failure")
        status = FINAL.get(tm.subtype, "in progress")
        detail = ""
        if failure:
            if failure.get("reason"):  # an argument reason names the argument of this command
                failure = dict(failure, reason_text=reason_text(failure["reason"], rec.name))
            rec.failure = failure
            detail = failure_summary(failure["code"], failure.get("reason"), rec.name)
            if failure["detail"]:
                detail += " (%s)" % failure["detail"]
        self._stage(rec, decoded["stage"], tm.subtype, detail, status, failure["code"] if failure else None)
        if rec.done and rec in self._awaiting_reply:
            self._awaiting_reply.remove(rec)

    # --- status ------------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        dl, fop = self.dl, self.term.fop
        return {
            "frames": dl.frames, "crc_failures": dl.crc_failures, "lost_frames": dl.ext.lost_frames,
            "foreign_frames": dl.foreign_frames, "foreign_scids": sorted(dl.foreign_scids),
            "bad_packets": dl.bad_packets, "packets": self.packets, "playback": dict(self.playback),
            "rs_corrected": dl.dec.corrected_symbols, "rs_uncorrectable": dl.dec.uncorrectable,
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
