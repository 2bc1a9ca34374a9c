"""One ground process serving several spacecraft at once, each on its own link.

Every spacecraft has its own session: link, CADU decoder, packet extractor, COP-1 FOP and
(optionally) security association; telemetry lands in one archive partitioned by SCID. A
frame whose SCID is not the session's is counted and dropped, so two spacecraft can never
mix in the archive even if links are crossed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ground.archive import Archive
from ground.dictionary import decode_hk
from ground.downlink import Downlink
from ground.pus import VERIFICATION, housekeeping, verification
from ground.transport import open_link
from protocols import cltu, cop1
from protocols.cuc import CucTime
from protocols.pus import PusTc


@dataclass
class Session:
    scid: int
    url: str | None
    interleave: int = 5
    hk_reports: int = 0
    verified: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.link = open_link(self.url) if self.url else None  # None: bytes are fed by ingest()
        self.downlink = Downlink(self.scid, self.interleave)
        self.fop = cop1.Fop1(self.scid, vcid=0, window=4, t1_ms=2000)
        self.fop.initialize(0)


class GroundStation:
    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.sessions: dict[int, Session] = {}
        # samples wait here and go to SQLite in one transaction per spacecraft per flush: a commit
        # per link read would cost more than decoding the CADUs
        self._pending: dict[int, list[tuple[str, float, float]]] = {}
        self.flush_rows = 20000

    def add(self, scid: int, url: str | None, interleave: int = 5) -> Session:
        if scid in self.sessions:
            raise ValueError("spacecraft %d already has a session" % scid)
        self.sessions[scid] = Session(scid, url, interleave)
        return self.sessions[scid]

    def send(self, scid: int, tc: PusTc) -> None:
        self.sessions[scid].fop.send(tc.pack())

    def poll(self, now_ms: int, timeout: float = 0.0) -> None:
        for s in self.sessions.values():
            for frame in s.fop.poll(now_ms):
                s.link.write(cltu.encode(frame))
            self.ingest(s, s.link.read(timeout), now_ms)
        self.flush()

    def flush(self) -> None:
        """Write every pending sample to the archive."""
        for scid, rows in self._pending.items():
            if rows:
                self.archive.ingest_samples(scid, rows)
        self._pending = {}

    def ingest(self, s: Session, data: bytes, now_ms: int = 0) -> None:
        """Decode one spacecraft's downlink bytes into its archive partition."""
        if not data:
            return
        samples = []
        for frame, tm in s.downlink.feed(data):
            if tm is None:
                s.fop.on_clcw(frame.clcw(), now_ms)
            elif (tm.service, tm.subtype) == housekeeping.REPORT:
                _sid, hk = decode_hk(tm.source_data)
                t = CucTime.unpack(tm.timestamp).seconds()
                s.hk_reports += 1
                samples.extend((k, t, float(v)) for k, v in hk.items())
            elif tm.service == VERIFICATION and tm.subtype == verification.COMPLETED:
                req = verification.request_id(tm.source_data)
                if req is not None:
                    s.verified.append(req[1])
        if samples:
            pending = self._pending.setdefault(s.scid, [])
            pending += samples
            if len(pending) >= self.flush_rows:
                self.flush()

    def close(self) -> None:
        self.flush()
        for s in self.sessions.values():
            if s.link is not None:
                s.link.close()
