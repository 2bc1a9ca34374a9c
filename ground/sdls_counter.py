"""The ground's SDLS anti-replay counter: persistent and strictly increasing across every sender.

The spacecraft accepts a frame only if its sequence number is above the last one it accepted,
so the ground must never reuse a number: not in the next `cubesat send` a tenth of a second
later, not after a restart, not when two sends run at once. Each sending session reserves a
block of numbers under an exclusive lock in a small file beside the key (KEY_FILE.sn) and
writes the end of the block back before it sends anything. The wall clock (tenths of a second
since 2026-01-01) is a floor, so a lost counter file does not start again from zero.

    counter = SequenceCounter.beside(key_file)
    sa.last_sn = counter.reserve()        # frames then use last_sn + 1, + 2, ...
"""

from __future__ import annotations

import fcntl
import os
import time

from ground.errors import GroundError

EPOCH_UNIX_S = 1767225600  # 2026-01-01T00:00:00Z
SN_MAX = 0xFFFFFFFF
BLOCK = 1024  # numbers one session may use: a send needs a handful (Set V(R), retransmissions, queries)


class CounterError(GroundError, OSError):
    """The counter file cannot be read, locked or written, or the 32-bit space is used up."""


def clock_floor(now_s: float | None = None) -> int:
    """Tenths of a second since 2026-01-01: grows on its own, good for 13 years of 32 bits."""
    return max(0, int(((time.time() if now_s is None else now_s) - EPOCH_UNIX_S) * 10))


class SequenceCounter:
    def __init__(self, path: str, block: int = BLOCK) -> None:
        self.path = path
        self.block = block

    @classmethod
    def beside(cls, key_file: str, block: int = BLOCK) -> SequenceCounter:
        return cls(key_file + ".sn", block)

    def reserve(self) -> int:
        """The last number before a fresh block of `block` numbers nobody else will use."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise CounterError(
                "cannot keep the anti-replay counter in %s: %s" % (self.path, exc.strerror or exc)
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held for a few microseconds by any other sender
            text = os.read(fd, 64).decode("ascii", "replace").strip()
            try:
                stored = int(text) if text else 0
            except ValueError:
                raise CounterError(
                    "anti-replay counter file %s is corrupt (%r); remove it to restart from the clock"
                    % (self.path, text[:20])
                ) from None
            start = max(stored, clock_floor())
            end = start + self.block
            if end > SN_MAX:
                raise CounterError("the 32-bit anti-replay counter is used up: rekey with a new SPI")
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, b"%d\n" % end)
            os.fsync(fd)  # on disk before the first number goes on air
            return start
        except OSError as exc:
            if isinstance(exc, CounterError):
                raise
            raise CounterError("anti-replay counter %s: %s" % (self.path, exc.strerror or exc)) from None
        finally:
            os.close(fd)
