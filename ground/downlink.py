"""The ground's downlink chain in one place: bytes -> CADUs -> TM frames -> PUS TM packets.

    dl = Downlink(scid=DEFAULT_SCID)
    for frame, tm in dl.feed(chunk): ...     # tm is None for frames that completed no packet

Counts what it drops: frame CRC failures, frames of another spacecraft, undecodable packets.
With `keep_raw`, each decoded packet's bytes are also kept in `raw` as (bytes, PusTm) until the
caller takes them (the ground server archives packets raw and decoded). A `frame_sink` gets each
good frame of this spacecraft as bytes (the server forwards them to Yamcs). A packet whose APID
is in `sinks` goes to that handler instead of the PUS decoder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from protocols import errors, sync, tm_extractor, tmframe
from protocols.pus import PusTm


class Downlink:
    def __init__(
        self,
        scid: int | None = None,
        interleave: int = 5,
        timestamp_len: int = 6,
        frame_len: int | None = None,
        keep_raw: bool = False,
        dual_basis: bool = True,
    ) -> None:
        self.scid = scid
        # frame_len: shortened frames (virtual fill), e.g. protocols.lora.FRAME_LEN; default 223 * I.
        # dual_basis: RS symbols in the dual basis (CCSDS, this project's flight); False: the
        # conventional basis some other spacecraft send
        self.dec = sync.CaduDecoder(frame_len or 223 * interleave, interleave, dual_basis)
        self.ext = tm_extractor.PacketExtractor()
        self.timestamp_len = timestamp_len
        self.frames = 0
        self.crc_failures = 0
        self.foreign_frames = 0
        self.foreign_scids: set[int] = set()  # whose frames they were (a wrong --scid shows here)
        self.bad_packets = 0
        self.clcw = None
        self.raw: list[tuple[bytes, PusTm]] | None = [] if keep_raw else None
        self.frame_sink: Callable[[bytes], None] | None = None
        # APID -> handler of that APID's packets (not PUS: CFDP PDUs, ground/file_transfer.py)
        self.sinks: dict[int, Callable[[bytes], None]] = {}

    def feed(self, chunk: bytes) -> Iterator[tuple[tmframe.TmFrame, PusTm | None]]:
        for raw in self.dec.feed(chunk):
            try:
                frame = tmframe.unpack(raw)
            except errors.CrcError:
                self.crc_failures += 1
                continue
            except errors.ProtocolError:
                continue
            if self.scid is not None and frame.scid != self.scid:
                self.foreign_frames += 1
                self.foreign_scids.add(frame.scid)
                continue
            self.frames += 1
            self.clcw = frame.clcw()
            if self.frame_sink is not None:
                self.frame_sink(bytes(raw))
            yield frame, None
            for pkt in self.ext.feed(frame):
                sink = self.sinks.get((pkt[0] & 7) << 8 | pkt[1]) if self.sinks else None
                if sink is not None:
                    sink(bytes(pkt))
                    continue
                try:
                    tm = PusTm.unpack(pkt, timestamp_len=self.timestamp_len)
                except errors.ProtocolError:
                    self.bad_packets += 1
                    continue
                if self.raw is not None:
                    self.raw.append((bytes(pkt), tm))
                yield frame, tm
