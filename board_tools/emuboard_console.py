"""Waiting on what the emulated board reports (status events, console output) and its heap, measured
from inside MicroPython: the helpers of board_tools.emuboard.EmulatedBoard, and heap_report() for
any board's REPL port."""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable
from typing import Any

from board_tools.board_side import source
from board_tools.emuboard_relay import EmulatorError


class BoardWaits:
    """EmulatedBoard's waits and heap report. The board provides _cond (a Condition the relay
    notifies), events, console_log, _log_console, _clients, alive and port."""

    # -- conveniences -----------------------------------------------------------------------------
    @property
    def uart_clients(self) -> int:
        """TCP clients the relay has accepted on the UART port."""
        return len(self._clients)

    def wait_until(self, pred: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
        """pred()'s first true value, re-checked whenever the board reports something (status events
        such as "flash" after each write-back of the host mirror, console output, a TCP client
        accepted) and at least every 0.1 s; EmulatorError at the deadline."""
        v = self._wait(pred, timeout)
        if not v:
            raise EmulatorError("timed out after %s s waiting for %s" % (timeout, what))
        return v

    def _wait(self, pred: Callable[[], Any], timeout: float) -> Any:
        """pred()'s value once true (re-checked whenever the relay reports something), else None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                v = pred()
                left = deadline - time.monotonic()
                if v or left <= 0:
                    return v
                self._cond.wait(min(left, 0.1))

    def wait_console(
        self, pattern: bytes | re.Pattern[bytes], timeout: float = 10.0, since: int = 0
    ) -> re.Match:
        """Block until the board's console output (log_console=True) matches `pattern` at or after
        offset `since` of console_log; returns the match. Raises EmulatorError at the deadline or if
        node exits first."""
        if not self._log_console:
            raise EmulatorError("wait_console needs EmulatedBoard(log_console=True)")
        rx = re.compile(pattern) if isinstance(pattern, bytes) else pattern
        hit = self._wait(
            lambda: rx.search(bytes(self.console_log), since) or (not self.alive and "dead"), timeout
        )
        if not isinstance(hit, re.Match):
            raise EmulatorError(
                "%s %r on the board console within %s s; last output: %r"
                % (
                    "board exited before printing" if hit == "dead" else "no",
                    rx.pattern,
                    timeout,
                    bytes(self.console_log[-300:]),
                )
            )
        return hit

    def wait_event(self, name: str, count: int = 1, timeout: float = 10.0) -> dict[str, Any]:
        """Block until the board has reported `name` (e.g. "reset") `count` times; returns the last."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hits = [e for e in self.events if e.get("event") == name]
                if len(hits) >= count:
                    return hits[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive:
                    raise EmulatorError("no %r event #%d from the board within %s s" % (name, count, timeout))
                self._cond.wait(min(left, 0.1))

    def heap_report(self) -> dict[str, int]:
        return heap_report(self.port)


def heap_report(port: str, timeout: float = 10.0) -> dict[str, int]:
    """Heap of a board, measured from inside MicroPython, in bytes.

    current: live heap after a collection; peak: the board's high-water mark of gc.mem_alloc() (sampled
    after boot.py/main.py, after every main-loop tick and on each report; on the emulator garbage is only
    collected between top-level calls, so a tick's sample includes all it allocated); heap: size of the
    heap areas. Uses the raw REPL without a soft reset (state survives); like any mpremote command it
    interrupts a running main loop. Works on a real board too when `emuboard` is absent (peak = current).
    """
    from mpremote.transport_serial import SerialTransport

    from board_tools.flash.raw_repl import enter_raw_repl

    t = SerialTransport(port, baudrate=115200)
    try:
        enter_raw_repl(t, soft_reset=False)
        # The port collects only when control returns to JS, so collect in one command, measure in the next.
        t.exec("import gc\ngc.collect()")
        out = t.exec(source("heap_report.py"))
        t.exit_raw_repl()
    finally:
        t.close()
    r = ast.literal_eval(out.decode().strip())
    return {"current": int(r["alloc"]), "peak": max(int(r["peak"]), int(r["alloc"])), "heap": int(r["heap"])}
