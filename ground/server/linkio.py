"""The bytes side of a server link: KISS framing, key files."""

from __future__ import annotations

from typing import Any

from ground.server.errors import ConfigError
from ground.transport import KissLink


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
