"""The commands one server link has sent: a record per command in memory (the last
KEEP_RECORDS; the archive keeps them all), each PUS-1 verification stage and TM reply matched to
its command, every change archived and published to live clients."""

from __future__ import annotations

from typing import Any

from ground.dictionary import Command, failure_summary, reason_text
from ground.pus import housekeeping, verification
from ground.server.auth import User
from ground.server.clock import Clock
from ground.server.decode import REPLY_EVENT, REPLY_TO
from ground.server.live import LiveHub
from ground.server.records import FINAL, CommandRecord
from ground.server.store_interface import GroundStore
from ground.terminal import Terminal
from protocols import errors
from protocols.pus import PusTc, PusTm

KEEP_RECORDS = 2000  # commands kept in memory; all of them are in the archive


class CommandTracker:
    def __init__(self, scid: int, name: str, store: GroundStore, hub: LiveHub, clock: Clock) -> None:
        self.scid = scid
        self.name = name
        self.store = store
        self.hub = hub
        self.clock = clock
        self.records: dict[int, CommandRecord] = {}
        self._by_req: dict[tuple[int, int], CommandRecord] = {}
        self._awaiting_reply: list[CommandRecord] = []

    def add(
        self, user: User, cmd: Command, args: dict[str, Any], req: tuple[int, int], detail: str
    ) -> CommandRecord:
        """A command sent (or carried inside one) as request `req`: archived, tracked, queued."""
        cid = self.store.add_command(self.scid, user.name, user.role, cmd.name, args, *req)
        rec = CommandRecord(
            cid,
            self.scid,
            user.name,
            cmd.name,
            dict(args),
            req,
            (cmd.service, cmd.subtype),
            t=self.clock.time(),
        )
        self.records[cid] = rec
        self._by_req[req] = rec
        if rec.kind in REPLY_TO or cmd.name in REPLY_EVENT:
            self._awaiting_reply.append(rec)
        self.stage(rec, "queued", None, detail)
        return rec

    def forget_old(self, term: Terminal) -> None:
        """Keep the last KEEP_RECORDS in memory (and the terminal's tables of them)."""
        while len(self.records) > KEEP_RECORDS:
            old = self.records.pop(next(iter(self.records)))
            for table in (self._by_req, term.sent, term.reports, term.failures, term.reasons):
                table.pop(old.request, None)
            if old in self._awaiting_reply:
                self._awaiting_reply.remove(old)

    def stage(
        self, rec: CommandRecord, stage: str, subtype: int | None, detail: str = "",
        status: str | None = None, code: int | None = None,
    ) -> None:  # fmt: skip
        rec.add(stage, subtype, detail, status, self.clock.time())
        self.store.add_stage(rec.id, stage, subtype, detail, status, code)
        self.hub.publish({"kind": "command", "scid": self.scid, "spacecraft": self.name, **rec.publish()})

    def dropped(self, frames: list[bytes]) -> None:
        """Frames COP-1 gave up on (it was initialized again): their commands are unconfirmed."""
        for data in frames:
            try:
                tc = PusTc.unpack(data)
            except errors.ProtocolError:
                continue
            rec = self._by_req.get((tc.apid, tc.seq_count))
            if rec is not None and not rec.done:
                why = "in flight when COP-1 restarted (spacecraft reset?): not resent"
                self.stage(rec, "unconfirmed", None, why, "unconfirmed")

    def match_reply(self, kind: tuple[int, int], decoded: dict, item: dict) -> None:
        """The oldest accepted command waiting for this kind of TM gets it as its reply."""
        for rec in self._awaiting_reply:
            if not rec.has("accepted"):
                continue
            if rec.name in REPLY_EVENT:
                if decoded.get("event") != REPLY_EVENT[rec.name]:
                    continue
            elif REPLY_TO.get(rec.kind) != kind:
                continue
            if kind == housekeeping.REPORT and str(decoded.get("sid")) != str(rec.args.get("sid")):
                continue
            rec.reply = {"packet_id": item["id"], "t_onboard": item["t_onboard"], **decoded}
            rec.publish()
            self._awaiting_reply.remove(rec)
            self.store.set_reply(rec.id, item["id"])
            return

    def verification(self, tm: PusTm, decoded: dict) -> None:
        req = (decoded["request"]["apid"], decoded["request"]["seq"])
        rec = self._by_req.get(req)
        if rec is None or rec.has(verification.STAGES.get(tm.subtype, "")):
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
        self.stage(rec, decoded["stage"], tm.subtype, detail, status, failure["code"] if failure else None)
        if rec.done and rec in self._awaiting_reply:
            self._awaiting_reply.remove(rec)
