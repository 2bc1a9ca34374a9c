"""Send one command through the full uplink and wait for its PUS-1 verification reports.

COP-1: each `send` starts the AD service with Set V(R) (so a fresh ground process and a
running spacecraft agree on sequence numbers), then sends the command as a type-AD frame
and retransmits on CLCW request or T1 expiry. The verdict comes from PUS-1: 1.1 acceptance,
1.7 completion (success) or 1.2/1.8 failure with its failure code.

When no completion arrives, the verdict still says what is known: COP-1 acknowledged the frame
(the spacecraft has the command, so it must not be sent again) or the spacecraft reported an
authentication failure (wrong or missing key, a replayed sequence number) during the session.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flight.dictionary import FAILURES
from ground import DEFAULT_SCID
from ground.dictionary import failure_notice, reason_text
from ground.pus import EVENT_REPORTING, VERIFICATION, verification
from ground.pus.events import decode_event
from ground.transport import LinkError, open_link
from protocols import cltu, cop1, errors, sdls, sync, tm_extractor, tmframe
from protocols.pus import PusTc, PusTm

# from the flight dictionary: the code the spacecraft reports, the words the operator reads
FAILURE_CODES = {code: text for code, (_name, text) in FAILURES.items()}
AUTH_CHECKS = {
    1: "MAC does not verify (wrong key?)",
    2: "sequence number replayed",
    3: "unknown key (SPI)",
    4: "frame too short for its security header",
}


@dataclass
class Verdict:
    stages: list[int] = field(default_factory=list)
    failure_code: int | None = None
    failure_reason: int | None = None  # the board's reason byte (None: an older board)
    failure_detail: str = ""  # the board's short text
    command: str | None = None  # its name, to name an argument a reason points at
    round_trip_ms: float | None = None
    queries: int = 0  # verification queries needed because reports were lost on the downlink
    delivered: bool = False  # COP-1 acknowledged the frame: the spacecraft has the command
    auth_rejects: list[int] = field(default_factory=list)  # AUTH_REJECT checks seen meanwhile
    events: list[tuple[str, dict]] = field(default_factory=list)  # events that came down meanwhile
    scid: int = DEFAULT_SCID  # the spacecraft it was sent to
    foreign_frames: int = 0  # TM frames of other spacecraft, ignored
    foreign_scids: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return verification.COMPLETED in self.stages

    @property
    def failed(self) -> bool:
        return any(verification.is_failure(s) for s in self.stages)

    @property
    def unverified(self) -> bool:
        """Delivered (or accepted) but its outcome unknown: resending could run it twice."""
        return not (self.ok or self.failed) and (self.delivered or bool(self.stages))

    def describe(self) -> str:
        names = {1: "accepted", 2: "rejected", 3: "started", 4: "start failed", 7: "completed", 8: "failed"}
        text = ", ".join(names.get(s, "stage %d" % s) for s in self.stages)
        if self.unverified:
            text = (text + "; " if text else "") + (
                "delivered (COP-1 acknowledged) but its completion report never came down: "
                "do NOT resend, check its effect in telemetry"
            )
        elif not text:
            if self.auth_rejects:
                text = "refused by the spacecraft's authentication: %s; check --key-file and --spi" % (
                    ", ".join(AUTH_CHECKS.get(c, "check %d" % c) for c in sorted(set(self.auth_rejects)))
                )
            else:
                text = "no verification report and no COP-1 acknowledgement: the spacecraft did not get it"
        if self.failure_code is not None:
            why = reason_text(self.failure_reason, self.command)
            text += " (failure code %d: %s%s)" % (
                self.failure_code,
                FAILURE_CODES.get(self.failure_code, "unknown"),
                "; %s (%s)" % (FAILURES[self.failure_code][0], why)
                if why and self.failure_code in FAILURES
                else "",
            )
        if self.foreign_frames and not (self.ok or self.failed):
            text += "; %d TM frame(s) of SCID %s ignored: this command is for SCID %d (--scid)" % (
                self.foreign_frames, ", ".join(str(s) for s in sorted(self.foreign_scids)), self.scid,
            )  # fmt: skip
        if self.queries:
            text += " (reports lost on the downlink, recovered with %d verification queries)" % self.queries
        return text


class LinkSession:
    """One ground session on a link: COP-1 started once (Set V(R)), then any number of commands,
    each verified in turn. `send_and_verify` is a session of one command; arming a thruster is a
    session of two, so the confirm goes up as soon as the token comes down."""

    def __init__(
        self,
        url: str,
        scid: int = DEFAULT_SCID,
        interleave: int = 5,
        sa: sdls.SecurityAssociation | None = None,
    ) -> None:
        self.link = open_link(url)
        self.scid = scid
        secure = None
        if sa is not None:

            def secure(seq: int, data: bytes, control: bool = False) -> bytes:
                return sdls.secure_frame(sa, scid, 0, seq, data, control=control)

        self.fop = cop1.Fop1(scid, vcid=0, window=4, t1_ms=2000, transmission_limit=5, secure=secure)
        self.fop.initialize(0)
        self.dec = sync.CaduDecoder(223 * interleave, interleave)
        self.ext = tm_extractor.PacketExtractor()
        self.t0 = time.monotonic()
        self.last_seq: int | None = None  # the last request sequence count this session used

    def next_seq(self, fallback: int) -> int:
        """A request sequence count this session has not used (after the last one)."""
        return fallback if self.last_seq is None else (self.last_seq + 1) & 0x3FFF

    def close(self) -> None:
        self.link.close()

    def __enter__(self) -> LinkSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(
        self, tc: PusTc, timeout_s: float = 10.0, recover_after_s: float = 1.0, name: str | None = None
    ) -> Verdict:
        """Send `tc` and collect its PUS-1 reports. When COP-1 says the spacecraft has the frame
        but the completion report has not arrived after `recover_after_s` (a TM frame lost beyond
        what RS corrects), ask the spacecraft to repeat the reports (TC 1,128) instead of giving up."""
        fop, link, scid = self.fop, self.link, self.scid
        fop.send(tc.pack())
        self.last_seq = tc.seq_count
        verdict = Verdict(scid=scid, command=name)
        start = time.monotonic()
        pid, psc = tc.request_id()
        next_query = None
        queries = 0
        acked_before = fop.acknowledged
        while time.monotonic() - start < timeout_s and not (verdict.ok or verdict.failed):
            now_ms = int((time.monotonic() - self.t0) * 1000)
            if fop.acknowledged > acked_before and not fop.pending():
                verdict.delivered = True
                # the FARM has the command: only its reports can still be missing
                if next_query is None:
                    next_query = now_ms + int(recover_after_s * 1000)
                elif now_ms >= next_query:
                    queries += 1
                    self.last_seq = (self.last_seq + 1) & 0x3FFF
                    query = PusTc(
                        1,
                        128,
                        struct.pack(">HH", pid & 0x7FF, psc & 0x3FFF),
                        apid=tc.apid,
                        seq_count=self.last_seq,
                    )
                    fop.send(query.pack())
                    verdict.queries = queries
                    next_query = None
            for frame in fop.poll(now_ms):
                link.write(cltu.encode(frame))
            for raw in self.dec.feed(link.read(0.05)):
                try:
                    frame = tmframe.unpack(raw)
                except errors.ProtocolError:
                    continue
                if frame.scid != scid:  # another spacecraft's downlink: not our CLCW, not our reports
                    verdict.foreign_frames += 1
                    verdict.foreign_scids.add(frame.scid)
                    continue
                fop.on_clcw(frame.clcw(), now_ms)
                for pkt in self.ext.feed(frame):
                    try:
                        tm = PusTm.unpack(pkt, timestamp_len=6)
                    except errors.ProtocolError:
                        continue
                    if tm.service == EVENT_REPORTING and len(tm.source_data) >= 3:
                        name, aux = decode_event(tm.source_data)
                        if name == "AUTH_REJECT":
                            verdict.auth_rejects.append(aux.get("check", 0))
                        verdict.events.append((name, aux))
                        continue
                    if tm.service != VERIFICATION:
                        continue
                    if verification.request_id(tm.source_data) != (pid & 0x7FF, psc & 0x3FFF):
                        continue
                    if tm.subtype in verdict.stages:
                        continue  # a repeated report (after a query) counts once
                    verdict.stages.append(tm.subtype)
                    if verification.is_failure(tm.subtype) and len(tm.source_data) >= 6:
                        code, reason, detail = failure_notice(tm.source_data)
                        verdict.failure_code, verdict.failure_reason = code, reason
                        verdict.failure_detail = detail
                    if tm.subtype in (verification.COMPLETED, verification.COMPLETION_FAILED):
                        verdict.round_trip_ms = (time.monotonic() - start) * 1000
        if fop.acknowledged > acked_before and not fop.pending():
            verdict.delivered = True
        return verdict


def send_and_verify(
    url: str,
    tc: PusTc,
    scid: int = DEFAULT_SCID,
    interleave: int = 5,
    timeout_s: float = 10.0,
    sa: sdls.SecurityAssociation | None = None,
    recover_after_s: float = 1.0,
    name: str | None = None,
) -> Verdict:
    """Send `tc` on its own session and collect its PUS-1 reports (LinkSession.send)."""
    with LinkSession(url, scid, interleave, sa) as session:
        return session.send(tc, timeout_s, recover_after_s, name)


def arm_thruster(
    session: LinkSession,
    build: Callable[[str, dict, int], PusTc],
    timeout_s: float = 10.0,
) -> tuple[Verdict, int | None, Verdict | None]:
    """Both steps of arming in one session: thruster_arm, the token of the ARM_PENDING event that
    came down with its completion, and at once thruster_arm_confirm quoting it (inside the
    board's window, whatever the twin's speed). `build(name, values, seq)` makes each TC.
    Returns (arm verdict, token or None, confirm verdict or None when there was no token)."""
    deadline = time.monotonic() + timeout_s
    arm = build("thruster_arm", {}, session.next_seq(int(time.time() * 1000) & 0x3FFF))
    first = session.send(arm, timeout_s, name="thruster_arm")
    tokens = [aux.get("token") for name, aux in first.events if name == "ARM_PENDING"]
    if not first.ok or not tokens:
        return first, None, None
    confirm = build("thruster_arm_confirm", {"token": tokens[-1]}, session.next_seq(0))
    left = max(0.5, deadline - time.monotonic())
    return first, tokens[-1], session.send(confirm, left, name="thruster_arm_confirm")


__all__ = ["FAILURE_CODES", "LinkError", "LinkSession", "Verdict", "arm_thruster", "send_and_verify"]
