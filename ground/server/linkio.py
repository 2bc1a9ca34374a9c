"""The bytes side of a server link: the tapped downlink chain, KISS framing, key files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ground.downlink import Downlink
from ground.server.errors import ConfigError
from ground.transport import KissLink
from protocols import errors, tmframe
from protocols.pus import PusTm


class TapDownlink(Downlink):
    """The Terminal's downlink chain, also keeping each packet's raw bytes for the archive."""

    def __init__(self, scid: int, interleave: int) -> None:
        super().__init__(scid, interleave)
        self.tapped: list[tuple[bytes, PusTm]] = []

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
                continue
            self.frames += 1
            self.clcw = frame.clcw()
            yield frame, None
            for pkt in self.ext.feed(frame):
                try:
                    tm = PusTm.unpack(pkt, timestamp_len=self.timestamp_len)
                except errors.ProtocolError:
                    self.bad_packets += 1
                    continue
                self.tapped.append((bytes(pkt), tm))
                yield frame, tm


class KissStream:
    """A KISS-framed link as a byte stream: one KISS frame per CLTU up, payloads joined down."""

    def __init__(self, link: Any) -> None:
        self.kiss = KissLink(link)

    def write(self, data: bytes) -> None:
        self.kiss.write(data)

    def read(self, timeout: float = 0.0) -> bytes:
        return b"".join(self.kiss.read_frames(timeout))

    def close(self) -> None:
        self.kiss.close()


def read_key(path: str) -> bytes:
    """An SDLS key from a file of hex digits (at least 16 bytes); never echoed."""
    try:
        with open(path) as fh:
            key = bytes.fromhex(fh.read().strip())
    except ValueError:
        raise ConfigError("key file %s must hold hex digits" % path) from None
    except OSError as exc:
        raise ConfigError("cannot read key file %s: %s" % (path, exc.strerror or exc)) from None
    if len(key) < 16:
        raise ConfigError("key in %s must be at least 16 bytes" % path)
    return key
