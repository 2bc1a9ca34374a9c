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
from dataclasses import dataclass, field

from flight import events
from flight.dictionary import FAILURES
from ground.transport import LinkError, open_link
from protocols import cltu, cop1, errors, sdls, sync, tmframe
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
    round_trip_ms: float | None = None
    queries: int = 0  # verification queries needed because reports were lost on the downlink
    delivered: bool = False  # COP-1 acknowledged the frame: the spacecraft has the command
    auth_rejects: list[int] = field(default_factory=list)  # AUTH_REJECT checks seen meanwhile

    @property
    def ok(self) -> bool:
        return 7 in self.stages

    @property
    def failed(self) -> bool:
        return any(s in (2, 4, 6, 8) for s in self.stages)

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
            text += " (failure code %d: %s)" % (
                self.failure_code,
                FAILURE_CODES.get(self.failure_code, "unknown"),
            )
        if self.queries:
            text += " (reports lost on the downlink, recovered with %d verification queries)" % self.queries
        return text


def send_and_verify(
    url: str,
    tc: PusTc,
    scid: int = 0x2A,
    interleave: int = 5,
    timeout_s: float = 10.0,
    sa: sdls.SecurityAssociation | None = None,
    recover_after_s: float = 1.0,
) -> Verdict:
    """Send `tc` and collect its PUS-1 reports. When COP-1 says the spacecraft has the frame but
    the completion report has not arrived after `recover_after_s` (a TM frame lost beyond what
    RS corrects), ask the spacecraft to repeat the reports (TC 1,128) instead of giving up."""
    link = open_link(url)
    try:
        secure = None
        if sa is not None:

            def secure(seq: int, data: bytes, control: bool = False) -> bytes:
                return sdls.secure_frame(sa, scid, 0, seq, data, control=control)

        fop = cop1.Fop1(scid, vcid=0, window=4, t1_ms=2000, transmission_limit=5, secure=secure)
        fop.initialize(0)
        fop.send(tc.pack())
        dec = sync.CaduDecoder(223 * interleave, interleave)
        ext = tmframe.PacketExtractor()
        verdict = Verdict()
        start = time.monotonic()
        pid, psc = tc.request_id()
        next_query = None
        queries = 0
        while time.monotonic() - start < timeout_s and not (verdict.ok or verdict.failed):
            now_ms = int((time.monotonic() - start) * 1000)
            if fop.acknowledged and not fop.pending():
                verdict.delivered = True
                # the FARM has the command: only its reports can still be missing
                if next_query is None:
                    next_query = now_ms + int(recover_after_s * 1000)
                elif now_ms >= next_query:
                    queries += 1
                    query = PusTc(
                        1,
                        128,
                        struct.pack(">HH", pid & 0x7FF, psc & 0x3FFF),
                        apid=tc.apid,
                        seq_count=(tc.seq_count + queries) & 0x3FFF,
                    )
                    fop.send(query.pack())
                    verdict.queries = queries
                    next_query = None
            for frame in fop.poll(now_ms):
                link.write(cltu.encode(frame))
            for raw in dec.feed(link.read(0.05)):
                try:
                    frame = tmframe.unpack(raw)
                except errors.ProtocolError:
                    continue
                fop.on_clcw(frame.clcw(), now_ms)
                for pkt in ext.feed(frame):
                    try:
                        tm = PusTm.unpack(pkt, timestamp_len=6)
                    except errors.ProtocolError:
                        continue
                    if tm.service == 5 and len(tm.source_data) >= 3:
                        name, aux = events.decode(tm.source_data)
                        if name == "AUTH_REJECT":
                            verdict.auth_rejects.append(aux.get("check", 0))
                        continue
                    if tm.service != 1 or len(tm.source_data) < 4:
                        continue
                    rpid, rpsc = struct.unpack_from(">HH", tm.source_data)
                    if (rpid & 0x7FF, rpsc & 0x3FFF) != (pid & 0x7FF, psc & 0x3FFF):
                        continue
                    if tm.subtype in verdict.stages:
                        continue  # a repeated report (after a query) counts once
                    verdict.stages.append(tm.subtype)
                    if tm.subtype in (2, 4, 6, 8) and len(tm.source_data) >= 6:
                        verdict.failure_code = struct.unpack_from(">H", tm.source_data, 4)[0]
                    if tm.subtype in (7, 8):
                        verdict.round_trip_ms = (time.monotonic() - start) * 1000
        if fop.acknowledged and not fop.pending():
            verdict.delivered = True
        return verdict
    finally:
        link.close()


__all__ = ["FAILURE_CODES", "LinkError", "Verdict", "send_and_verify"]
