"""Entering a board's raw REPL within a deadline, whatever the running app prints.

mpremote's `enter_raw_repl` sends one Ctrl-C and then reads until the raw-REPL prompt; its
`read_until` checks the deadline only while no byte arrives. An app that keeps printing (a heartbeat
every 50 ms) therefore holds it forever when that one Ctrl-C is lost: during a soft reboot, in
boot.py, or while the USB CDC re-enumerates. Here every attempt reads through a port that refuses to
read past the attempt's deadline, and a failed attempt is retried with a fresh Ctrl-C until an
overall deadline, the way a person at the REPL presses Ctrl-C again.
"""

from __future__ import annotations

import contextlib
import io
import time
from typing import Any

import serial
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from board_tools.errors import BoardToolsError

ATTEMPT_S = 5.0  # one Ctrl-C, Ctrl-A, soft reset and prompt: well under a second on a quiet board
TOTAL_S = 20.0


class RawReplTimeoutError(BoardToolsError, TransportError):
    """No raw-REPL prompt within the overall deadline; the message says what the board did instead.
    A TransportError, as mpremote raises for the same failure."""


class _ExpiredError(Exception):
    pass


class _DeadlinePort:
    """The serial port as mpremote reads it, refusing to read once `end` (time.monotonic) has passed."""

    def __init__(self, port: serial.Serial, end: float) -> None:
        self._port = port
        self._end = end
        self.seen = 0  # bytes read: tells "kept printing" from "silent"

    def _check(self) -> None:
        if time.monotonic() >= self._end:
            raise _ExpiredError

    def read(self, n: int = 1) -> bytes:
        self._check()
        data = self._port.read(n)
        self.seen += len(data)
        return data

    def inWaiting(self) -> int:  # noqa: N802 (pyserial's name, called by mpremote)
        self._check()
        return self._port.inWaiting()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)


def enter_raw_repl(
    t: SerialTransport, *, soft_reset: bool = True, attempt_s: float = ATTEMPT_S, total_s: float = TOTAL_S
) -> None:
    """Enter the raw REPL (the app stops; with soft_reset the board restarts without running main.py)
    or raise RawReplTimeoutError.

    TransportError and serial errors from a port that fails outright pass through unchanged.
    """
    port = t.serial
    end = time.monotonic() + total_s
    chatty = silent = 0
    try:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            wrapped = _DeadlinePort(port, time.monotonic() + min(attempt_s, left))
            t.serial = wrapped
            try:
                # mpremote prints what it read when it gives up; the caller reports instead
                with contextlib.redirect_stdout(io.StringIO()):
                    t.enter_raw_repl(soft_reset=soft_reset, timeout_overall=min(attempt_s, left))
                return
            except (_ExpiredError, TransportError):
                if wrapped.seen:
                    chatty += 1
                else:
                    silent += 1
    finally:
        t.serial = port
    if chatty:
        what = "it kept printing (%d of %d tries) and never showed the raw REPL prompt" % (
            chatty,
            chatty + silent,
        )
    else:
        what = "it stayed silent (%d tries): no power, a crashed firmware, or not MicroPython" % silent
    raise RawReplTimeoutError("Ctrl-C and Ctrl-A for %.0f s: %s" % (total_s, what))
