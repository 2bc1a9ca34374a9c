"""After the boot pointer switch: soft-reboot into main.py and read boot_select's verdict on the
console (the new slot good, a rollback to the old one, or no heartbeat in time); a failure carries
the console lines of the failed boots."""

from __future__ import annotations

import re
import time

import serial

from .deploy_errors import BoardError, DeployError, HeartbeatTimeoutError, RolledBackError
from .deploy_session import _Board

# Console lines printed by boot_select (GOOD_LINE / ROLLBACK_LINE there).
_GOOD = re.compile(rb"boot_select: slot ([ab]) good")
_ROLLBACK = re.compile(rb"boot_select: slot ([ab]) failed (\d+) boots, rolled back to ([ab])")
_FAILED = re.compile(rb"boot_select: slot ([ab]) failed: ")


def _console_lines(buf: bytes, start: int = 0, end: int | None = None, head: int = 8, tail: int = 10) -> str:
    """The non-empty console lines of buf[start:end], indented, for an error message: the first `head`
    (what the boot printed first) and the last `tail` (how it ended), the middle elided."""
    text = buf[start:end].decode(errors="replace").replace("\r", "")
    kept = [ln.rstrip() for ln in text.split("\n") if ln.strip()]
    if len(kept) > head + tail + 1:
        kept = [*kept[:head], "... (%d lines)" % (len(kept) - head - tail), *kept[-tail:]]
    return "\n".join("  | " + ln for ln in kept) if kept else "  | (nothing printed)"


def _failed_boots(buf: bytes, target: str, end: int) -> str:
    """Why the trial boots of `target` failed: each boot's verdict line and the last boot's console."""
    tries = list(re.finditer(rb"boot_select: trying slot %s \(attempt (\d+)/(\d+)\)" % target.encode(), buf))
    tries = [m for m in tries if m.start() < end]
    start = tries[-1].start() if tries else 0
    verdicts = [
        m.group(0).decode(errors="replace") + buf[m.end() : buf.find(b"\n", m.end())].decode(errors="replace")
        for m in _FAILED.finditer(buf, 0, start)
        if m.group(1) == target.encode()
    ]
    head = "last console lines of the failed boots"
    if tries:
        head += " (attempt %s/%s)" % (tries[-1].group(1).decode(), tries[-1].group(2).decode())
    out = head + ":\n" + _console_lines(buf, start, end)
    if verdicts:
        out = "earlier boots: " + "; ".join(v.strip() for v in verdicts[-3:]) + "\n" + out
    return out


def _reboot_and_watch(board: _Board, target: str, active: str, timeout: float) -> str:
    """Soft-reboot into main.py and wait for boot_select's verdict on the console."""
    t = board.t
    try:
        t.exit_raw_repl()
        t.read_until(1, b">>> ", timeout=5)
        t.serial.write(b"\x04")  # Ctrl-D at the friendly REPL: soft reboot that runs main.py
    except (serial.SerialException, OSError) as exc:
        raise BoardError("board stopped answering while rebooting into slot %s: %s" % (target, exc)) from None
    buf = b""
    rollback = None
    heartbeat = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not heartbeat:
        try:
            buf += t.serial.read(max(1, t.serial.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise BoardError("serial link lost while slot %s was booting: %s" % (target, exc)) from None
        rollback = _ROLLBACK.search(buf)
        goods = [(m.start(), m.group(1).decode()) for m in _GOOD.finditer(buf)]
        if rollback is not None:
            heartbeat = any(at > rollback.start() for at, _ in goods)  # the old slot is back up
            old = rollback.group(3)
            if any(m.group(1) == old for m in _FAILED.finditer(buf, rollback.end())):
                break  # the fallback slot fails too: nothing more will come
        elif any(slot == target for _, slot in goods):
            return buf.decode(errors="replace")
        elif goods:
            raise DeployError(
                "the board booted slot %s instead of the new slot %s: the boot pointer was not honoured"
                % (goods[0][1], target)
            )
    if rollback is not None:
        attempts = int(rollback.group(2))
        old = rollback.group(3)
        why = _failed_boots(buf, target, rollback.start())
        if heartbeat:
            verdict = "reports good"
        elif any(m.group(1) == old for m in _FAILED.finditer(buf, rollback.end())):
            verdict = "fails too: the board waits at the REPL for a recovery deploy"
        else:
            verdict = "has not reported good within %.0f s either" % timeout
        raise RolledBackError(
            "slot %s failed %d boots without calling boot_select.mark_good(); the board rolled back to "
            "slot %s, which %s.\n%s" % (target, attempts, rollback.group(3).decode(), verdict, why),
            target,
            rollback.group(3).decode(),
            attempts,
            why,
        )
    tries = list(re.finditer(rb"trying slot %s \(attempt (\d+)/(\d+)\)" % target.encode(), buf))
    raise HeartbeatTimeoutError(
        "slot %s did not report good within %.0f s (%s); it stays on trial and boot_select returns to "
        "slot %s after the allowed failed boots. Last console lines:\n%s"
        % (
            target,
            timeout,
            "attempt %s/%s" % (tries[-1].group(1).decode(), tries[-1].group(2).decode())
            if tries
            else "no boot seen",
            active,
            _console_lines(buf, tries[-1].start() if tries else 0),
        )
    )
