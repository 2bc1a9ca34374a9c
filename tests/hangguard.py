"""`no_hang`: fail a test (instead of hanging CI) when a decoder does not return in time."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_hang(seconds: float = 5) -> Iterator[None]:
    def boom(*_: object) -> None:
        raise TimeoutError("decoder did not finish within %s s" % seconds)

    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
