"""The ground's CFDP entity for one spacecraft: files up into the board's filesystem, files down
from it (CCSDS 727.0-B-5 class 2: the full transaction machines, protocols/cfdp_receiver.py and
cfdp_sender.py; the board runs the lean ones, protocols/cfdp_lean*.py, equal on the wire).

    ft = FileTransfers(term, downloads=Path("downloads"))   # term: a ground.terminal.Terminal
    t = ft.put(Path("app.mpy"), "slot_b/flight/app.mpy", now_ms)
    while not t.done: ...link loop...; ft.poll(now_ms)      # timers; PDUs into the terminal's COP-1
    t.condition, t.progress(now_ms)                          # 0 = delivered; bytes, resent, ETA

PDUs travel in space packets on CFDP_APID both ways: up in TC frames through the terminal's COP-1
(sequence-controlled, so the board sees them in order), down out of the terminal's Downlink
(`sinks`), which hands the packets of that APID here instead of decoding them as PUS. A file the
spacecraft sends (`file_downlink` command) is received into `downloads` under its name there.
Every transaction ends with a condition code (0: the file arrived complete and its checksum
matched), kept in `finished` with its figures.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flight.dictionary import CFDP_APID
from flight.file_service import CFDP_ENTITY, CFDP_GROUND, transaction_seq
from ground.errors import GroundError
from protocols import errors
from protocols.cfdp_checksum import MODULAR
from protocols.cfdp_directives import NO_ERROR
from protocols.cfdp_filestore import HostFileStore
from protocols.cfdp_receiver import Receiver
from protocols.cfdp_sender import Sender
from protocols.spacepacket import HEADER_LEN, TC
from protocols.spacepacket_rx import SpacePacket

UPLINK_SEGMENT = 512  # file bytes per uplink PDU: one TC frame of about 560 bytes
CONDITIONS = {
    0: "no error",
    1: "positive ACK limit reached",
    2: "keep alive limit reached",
    3: "invalid transmission mode",
    4: "filestore rejection",
    5: "file checksum failure",
    6: "file size error",
    7: "NAK limit reached",
    8: "inactivity detected",
    9: "invalid file structure",
    10: "check limit reached",
    11: "unsupported checksum type",
    14: "suspend request received",
    15: "cancel request received",
}


# a file coming down may not grow past this: a wild offset in a PDU before the Metadata (which
# bounds the rest) is refused at once, never zero-filled up to (the board sends files of 1 MiB)
MAX_DOWNLOAD = 64 << 20


class TransferError(GroundError):
    """A transfer the ground refuses to start (no such file, a transaction of that number runs)."""


@dataclasses.dataclass
class Transfer:
    """One CFDP transaction and its figures."""

    direction: str  # "up" or "down"
    seq: int
    local: Path
    remote: str
    size: int
    machine: Sender | Receiver
    started_ms: int
    ended_ms: int | None = None

    @property
    def done(self) -> bool:
        return self.machine.done

    @property
    def condition(self) -> int | None:
        return self.machine.condition if self.done else None

    @property
    def ok(self) -> bool:
        return self.done and self.condition == NO_ERROR and (self.direction == "up" or self.machine.delivered)

    def bytes_done(self) -> int:
        m = self.machine
        return m.progress if isinstance(m, Sender) else sum(e - s for s, e in m.spans)

    def resent(self) -> int:
        return self.machine.resent if isinstance(self.machine, Sender) else 0

    def progress(self, now_ms: int) -> dict:
        """bytes, size, resent, elapsed and ETA (seconds; None until bytes moved) for an operator."""
        done = self.bytes_done()
        elapsed = ((self.ended_ms or now_ms) - self.started_ms) / 1000.0
        eta = None
        if not self.done and done and elapsed > 0:
            eta = (self.size - done) / (done / elapsed)
        return {
            "direction": self.direction,
            "transaction": self.seq,
            "local": str(self.local),
            "remote": self.remote,
            "bytes": done,
            "size": self.size,
            "resent": self.resent(),
            "elapsed_s": round(elapsed, 1),
            "eta_s": None if eta is None else round(eta, 1),
            "state": "done" if self.done else "running",
            "condition": self.condition,
            "condition_text": None if self.condition is None else CONDITIONS.get(self.condition, "?"),
        }


class FileTransfers:
    def __init__(self, terminal, downloads: Path | None = None, segment_len: int = UPLINK_SEGMENT) -> None:
        self.term = terminal
        self.downloads = Path(downloads or ".")
        self.downloads.mkdir(parents=True, exist_ok=True)
        self.segment_len = segment_len
        self.active: dict[tuple[str, int], Transfer] = {}
        self.finished: list[Transfer] = []
        self.bad_pdus = 0
        self._seq = 0
        self._pkt_seq = 0
        self._now = 0
        terminal.dl.sinks[CFDP_APID] = self._packet

    def put(self, local: Path, remote: str, now_ms: int, **options) -> Transfer:
        """Uplink `local` to the board's `remote` path (class 2, modular checksum)."""
        local = Path(local)
        if not local.is_file():
            raise TransferError("no file %s" % local)
        self._seq = (self._seq + 1) & 0xFF
        sender = Sender(
            HostFileStore(str(local.parent.resolve())),
            local.name,
            remote,
            CFDP_GROUND,
            CFDP_ENTITY,
            self._seq,
            now_ms,
            checksum_type=MODULAR,
            segment_len=self.segment_len,
            burst=2,
            **options,
        )
        t = Transfer("up", self._seq, local, remote, sender.size, sender, now_ms)
        self.active[("up", self._seq)] = t
        self.poll(now_ms)
        return t

    def cancel(self, t: Transfer, now_ms: int) -> None:
        t.machine.cancel()
        self.poll(now_ms)

    def poll(self, now_ms: int) -> None:
        """Run the timers and queue what the machines have to send; an uplink feeds COP-1 only
        while fewer than two frames wait, so commands are not stuck behind a whole file."""
        self._now = now_ms
        for key, t in list(self.active.items()):
            if t.direction == "up" and len(self.term.fop.waiting) >= 2 and not t.machine.done:
                continue
            self._send(t.machine.poll(now_ms))
            if t.done:
                t.ended_ms = now_ms
                t.machine.store.close()
                del self.active[key]
                self.finished.append(t)

    def _send(self, pdus: list[bytes]) -> None:
        for pdu in pdus:
            self.term.fop.send(SpacePacket(TC, CFDP_APID, pdu, self._pkt_seq).pack())
            self._pkt_seq = (self._pkt_seq + 1) & 0x3FFF

    def _packet(self, pkt: bytes) -> None:
        pdu = pkt[HEADER_LEN:]
        if len(pdu) < 8:
            self.bad_pdus += 1
            return
        try:
            if pdu[0] & 0x08:  # toward the sender: one of our uplinks
                seq = transaction_seq(pdu)
                t = self.active.get(("up", seq))
                if t is None:
                    self.bad_pdus += 1
                    return
                t.machine.feed(pdu, self._now)
            else:
                seq = transaction_seq(pdu)
                t = self.active.get(("down", seq))
                if t is None:
                    store = HostFileStore(str(self.downloads), max_size=MAX_DOWNLOAD)
                    rx = Receiver(store, CFDP_GROUND, self._now)
                    rx.feed(pdu, self._now)
                    t = Transfer("down", seq, self.downloads, "", 0, rx, self._now)
                    self.active[("down", seq)] = t
                else:
                    t.machine.feed(pdu, self._now)
                md = t.machine.metadata
                if md is not None and not t.remote:
                    t.remote = t.machine.dest_name or ""
                    t.local = self.downloads / t.remote
                    t.size = md.file_size
        except errors.ProtocolError:
            self.bad_pdus += 1
            return
        self.poll(self._now)
