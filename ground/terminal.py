"""An operator's terminal on one spacecraft, in-process: dictionary commands through COP-1 and
CLTUs up, CADUs down into verification reports, housekeeping and events.

    term = Terminal(scid=DEFAULT_SCID)
    term.start(now_ms)                           # COP-1: Set V(R), wait for the CLCW
    req = term.command("param_set", {"param_id": 11, "value": 120.0})
    link.write(term.uplink(now_ms)); term.downlink(link.read(), now_ms)
    term.verdict(req)                            # e.g. [1, 3, 7] or [1, 8] with term.failures[req]

Transport-agnostic (bytes in, bytes out), so the same terminal drives the in-process twin, a
pty, a TCP link or a lossy channel model.
"""

from __future__ import annotations

from flight.dictionary import APID, PLAYBACK_DEST
from ground import DEFAULT_SCID
from ground.dictionary import build_tc, decode_hk, failure_notice, failure_summary, failure_text
from ground.downlink import Downlink
from ground.pus import EVENT_REPORTING, VERIFICATION, housekeeping, verification
from ground.pus.events import EVENT_VALUE_NAMES, decode_event, event_text
from ground.pus.verification import STAGES as VERIFICATION_STAGES
from protocols import cltu, cop1, sdls
from protocols.cuc import CucTime
from protocols.pus import PusTc, PusTm


def stage_names(stages: list[int]) -> str:
    """PUS-1 subtypes as the stages they report: [1, 3, 7] -> "accepted, started, completed"."""
    return ", ".join(VERIFICATION_STAGES.get(s, "subtype %d" % s) for s in stages)


class Terminal:
    def __init__(
        self,
        scid: int = DEFAULT_SCID,
        apid: int = APID,
        key: bytes | None = None,
        interleave: int = 5,
        role: str = "admin",
        t1_ms: int = 4000,
        frame_len: int | None = None,
        spi: int = 1,
    ) -> None:
        self.scid = scid
        self.apid = apid
        self.role = role
        # the key's association: 1 the operators', 2 the admin key (flight/comms.py)
        self.sa = sdls.SecurityAssociation(spi, key, window=None) if key is not None else None
        secure = None
        if self.sa is not None:
            sa = self.sa

            def secure(seq: int, data: bytes, control: bool = False) -> bytes:
                return sdls.secure_frame(sa, scid, 0, seq, data, control=control)

        self.fop = cop1.Fop1(scid, vcid=0, window=8, t1_ms=t1_ms, transmission_limit=20, secure=secure)
        self.dl = Downlink(scid, interleave, frame_len=frame_len)
        self.seq = 0
        self.sent: dict[tuple[int, int], str] = {}  # request -> command name
        self.reports: dict[tuple[int, int], list[int]] = {}
        self.failures: dict[tuple[int, int], tuple[int, str]] = {}
        self.reasons: dict[tuple[int, int], int | None] = {}  # the board's failure reason byte
        self.hk: list[tuple[float, int, dict]] = []
        self.events: list[tuple[float, str, dict]] = []
        self.unconfirmed: list[bytes] = []  # commands in flight when the spacecraft rebooted
        self.tm: list[PusTm] = []  # everything else (17,2 / 20,2 / 11,13 / 13,x / 9,2)
        self.verification_tm: list[PusTm] = []  # the PUS-1 reports themselves
        self.playback: list[PusTm] = []  # packets played back from an onboard store (PUS-15)

    def start(self, now_ms: int) -> None:
        self.fop.initialize(now_ms)

    def build(self, name: str, values: dict | None = None, confirmed: bool = True) -> PusTc:
        tc = build_tc(name, values or {}, self.apid, self.seq, self.role, confirmed)
        self.seq = (self.seq + 1) & 0x3FFF
        return tc

    def send_tc(self, tc: PusTc, name: str = "") -> tuple[int, int]:
        self.fop.send(tc.pack())
        req = (tc.apid, tc.seq_count)
        self.sent[req] = name or "TC(%d,%d)" % (tc.service, tc.subtype)
        return req

    def command(self, name: str, values: dict | None = None, confirmed: bool = True) -> tuple[int, int]:
        return self.send_tc(self.build(name, values, confirmed), name)

    def expect(self, tc: PusTc, name: str = "") -> tuple[int, int]:
        """Track verification of a TC that reaches the spacecraft another way (time-tagged)."""
        req = (tc.apid, tc.seq_count)
        self.sent[req] = name or "TC(%d,%d)" % (tc.service, tc.subtype)
        return req

    def uplink(self, now_ms: int) -> bytes:
        return b"".join(cltu.encode(f) for f in self.fop.poll(now_ms))

    def downlink(self, data: bytes, now_ms: int) -> None:
        for frame, tm in self.dl.feed(data):
            if tm is None:
                self.fop.on_clcw(frame.clcw(), now_ms)
                continue
            t = CucTime.unpack(tm.timestamp).seconds() if tm.timestamp else 0.0
            if tm.dest_id >= PLAYBACK_DEST:
                # history, not news: a played-back BOOT is an old reboot, an old report no new stage
                self.playback.append(tm)
            elif tm.service == VERIFICATION and len(tm.source_data) >= 4:
                req = verification.request_id(tm.source_data)
                assert req is not None
                self.verification_tm.append(tm)
                self.reports.setdefault(req, []).append(tm.subtype)
                if verification.is_failure(tm.subtype) and len(tm.source_data) >= 6:
                    code, reason, detail = failure_notice(tm.source_data)
                    self.failures[req] = (code, detail)
                    self.reasons[req] = reason
            elif (tm.service, tm.subtype) == housekeeping.REPORT:
                sid, values = decode_hk(tm.source_data)
                self.hk.append((t, sid, values))
            elif tm.service == EVENT_REPORTING:
                name, aux = decode_event(tm.source_data)
                self.events.append((t, name, aux))
                if name == "BOOT" and self.sa is not None:
                    # the spacecraft restarted: its anti-replay counter is back at its high-water
                    # mark in flash, so move on past it (skipping numbers is always safe)
                    self.sa.last_sn += sdls.PERSIST_STRIDE
                if name == "BOOT" and self.fop._init_frame is None:
                    # its FARM is back at V(R) = 0: resynchronise COP-1
                    self.unconfirmed += self.fop.restart(now_ms)
            else:
                self.tm.append(tm)

    def verdict(self, req: tuple[int, int]) -> list[int]:
        return self.reports.get(req, [])

    def done(self, req: tuple[int, int]) -> bool:
        return any(s in (2, 4, 7, 8) for s in self.verdict(req))

    def stages(self, req: tuple[int, int]) -> str:
        """The verification stages reported for a command, by name, with the failure if one was reported:
        "accepted, started, completed" or "accepted, start failed (WRONG_MODE: not allowed in ...)"."""
        text = stage_names(self.verdict(req))
        if req in self.failures:
            code, _detail = self.failures[req]
            text += " (%s)" % failure_summary(code, self.reasons.get(req), self.sent.get(req))
        return text

    def describe_failure(self, req: tuple[int, int]) -> str:
        code, text = self.failures.get(req, (0, ""))
        return "failure code %d (%s): %s" % (code, failure_text(code), text)

    def latest(self, sid: int = 1) -> dict:
        for _t, s, values in reversed(self.hk):
            if s == sid:
                return values
        return {}


__all__ = ["EVENT_VALUE_NAMES", "VERIFICATION_STAGES", "Terminal", "event_text", "stage_names"]
