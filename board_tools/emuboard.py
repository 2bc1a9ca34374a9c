"""Emulated MicroPython dev board: real MicroPython (WebAssembly port, run by node) behind ptys.

`EmulatedBoard(flash_dir)` starts `node tools/emuboard/board.mjs` and makes it look like a USB board:

* `board.port`      the REPL, a /dev/pts path for `mpremote connect`, pyserial, `screen`
* `board.uart_port` the flight UART (`machine.UART(1)` on the board) as a second pty, and
  `board.uart_tcp`  the same UART on 127.0.0.1 (pyserial `socket://127.0.0.1:PORT`) when asked for
* `flash_dir`       the board's flash: loaded at power-on, written back while it runs and at exit

The launcher holds the pty slaves open (so the masters never see EIO between clients) and relays
bytes between them and node's pipes in one thread, with bounded buffers: output nobody reads is
dropped, as a USB CDC port does when no host listens. Measurements and pitfalls behind this design:
shared/EMULATED_BOARD.md.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import errno
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EMUBOARD_DIR = ROOT / "tools" / "emuboard"
BOARD_JS = EMUBOARD_DIR / "board.mjs"
PACKAGE = "@micropython/micropython-webassembly-pyscript"

BUF_LIMIT = 1 << 20  # bytes kept per direction when the reader is not keeping up
CHUNK = 65536


class EmulatorError(RuntimeError):
    """The emulated board could not be started or stopped as asked."""


def _nonblocking_pipe(read_nonblock: bool, write_nonblock: bool) -> tuple[int, int]:
    r, w = os.pipe()
    os.set_blocking(r, not read_nonblock)
    os.set_blocking(w, not write_nonblock)
    return r, w


def _open_pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no ^C signal, no \n translation: a byte pipe like a USB CDC port
    os.set_blocking(master, False)
    return master, slave, os.ttyname(slave)


def _append_bounded(buf: bytearray, data: bytes, limit: int = BUF_LIMIT) -> None:
    buf += data
    if len(buf) > limit:
        del buf[: len(buf) - limit]  # keep the newest bytes, like a terminal scrolling


class _Relay(threading.Thread):
    """Moves bytes between the ptys/TCP clients and one node process until stopped or node exits."""

    def __init__(self, board: EmulatedBoard, proc_fds: dict[str, int]) -> None:
        super().__init__(name="emuboard-relay", daemon=True)
        self.b = board
        self.fds = proc_fds
        self.wake_r, self.wake_w = _nonblocking_pipe(True, True)
        self.stopping = False
        self.con_out = bytearray()  # node stdout -> console pty
        self.con_in = bytearray()  # console pty -> node stdin
        self.uart_in = bytearray()  # UART pty/TCP -> board
        self.uart_out = bytearray()  # board -> UART pty
        self.status_line = bytearray()
        self._stdout_eof = False
        self._poll = select.poll()
        self._handlers: dict[int, Callable[[int], None]] = {}

    def stop(self) -> None:
        self.stopping = True
        with contextlib.suppress(OSError):
            os.write(self.wake_w, b"x")
        self.join(timeout=5)
        os.close(self.wake_r)
        os.close(self.wake_w)

    def run(self) -> None:
        try:
            self._loop()
        except Exception as e:  # the relay dying silently would look like a hung board
            self.b._note_error("relay: %r" % (e,))
        finally:
            with self.b._cond:
                self.b._relay_done = True
                self.b._cond.notify_all()

    def _loop(self) -> None:
        b, f = self.b, self.fds
        out_alive = True
        while not self.stopping:
            self._poll = select.poll()
            self._handlers = {}
            watch = self._watch
            watch(self.wake_r, select.POLLIN, lambda ev: None)
            if out_alive:
                watch(f["stdout"], select.POLLIN, self._from_node_stdout)
            if f.get("status", -1) >= 0:
                watch(f["status"], select.POLLIN, self._from_status)
            if f.get("stderr", -1) >= 0:
                watch(f["stderr"], select.POLLIN, self._from_stderr)
            if f.get("uart_tx", -1) >= 0:
                watch(f["uart_tx"], select.POLLIN, self._from_board_uart)
            watch(b._con_master, select.POLLIN | (select.POLLOUT if self.con_out else 0), self._console)
            if self.con_in:
                watch(f["stdin"], select.POLLOUT, self._to_node_stdin)
            if self.uart_in and f.get("uart_rx", -1) >= 0:
                watch(f["uart_rx"], select.POLLOUT, self._to_board_uart)
            if b._uart_master >= 0:
                mask = select.POLLIN | (select.POLLOUT if self.uart_out else 0)
                watch(b._uart_master, mask, self._uart_pty)
            if b._listener is not None:
                watch(b._listener.fileno(), select.POLLIN, self._accept)
            for c in list(b._clients):
                mask = select.POLLIN | (select.POLLOUT if b._clients[c] else 0)
                watch(c.fileno(), mask, lambda ev, c=c: self._tcp_client(c, ev))
            for fd, ev in self._poll.poll(1000):
                self._handlers[fd](ev)
            if out_alive and self._stdout_eof:
                out_alive = False
                with b._cond:
                    b._node_eof = True
                    b._cond.notify_all()

    def _watch(self, fd: int, mask: int, fn: Callable[[int], None]) -> None:
        self._poll.register(fd, mask)
        self._handlers[fd] = fn

    def _read(self, fd: int) -> bytes | None:
        """Bytes, b"" at EOF, None when nothing is ready."""
        try:
            return os.read(fd, CHUNK)
        except BlockingIOError:
            return None
        except OSError as e:
            if e.errno == errno.EIO:  # pty with no slave open: treated as no data
                return None
            raise

    def _from_node_stdout(self, ev: int) -> None:
        data = self._read(self.fds["stdout"])
        if data == b"":
            self._stdout_eof = True
        elif data:
            _append_bounded(self.con_out, data)
            self.b._console_log(data)

    def _from_status(self, ev: int) -> None:
        data = self._read(self.fds["status"])
        if data == b"":
            self.fds["status"] = -1
            return
        if not data:
            return
        self.status_line += data
        while b"\n" in self.status_line:
            line, _, rest = bytes(self.status_line).partition(b"\n")
            self.status_line = bytearray(rest)
            with contextlib.suppress(ValueError):
                self.b._status_event(json.loads(line))

    def _from_stderr(self, ev: int) -> None:
        data = self._read(self.fds["stderr"])
        if data == b"":
            self.fds["stderr"] = -1
        elif data:
            self.b._note_error(data.decode("utf-8", "replace"))

    def _from_board_uart(self, ev: int) -> None:
        data = self._read(self.fds["uart_tx"])
        if data == b"":
            self.fds["uart_tx"] = -1
        elif data:
            if self.b._uart_master >= 0:
                _append_bounded(self.uart_out, data)
            for c in self.b._clients:
                _append_bounded(self.b._clients[c], data)

    def _console(self, ev: int) -> None:
        m = self.b._con_master
        if ev & select.POLLIN:
            data = self._read(m)
            if data:
                _append_bounded(self.con_in, data, 4 * BUF_LIMIT)
        if ev & select.POLLOUT and self.con_out:
            self._write_some(m, self.con_out)

    def _uart_pty(self, ev: int) -> None:
        m = self.b._uart_master
        if ev & select.POLLIN:
            data = self._read(m)
            if data:
                _append_bounded(self.uart_in, data)
        if ev & select.POLLOUT and self.uart_out:
            self._write_some(m, self.uart_out)

    def _to_node_stdin(self, ev: int) -> None:
        self._write_some(self.fds["stdin"], self.con_in)

    def _to_board_uart(self, ev: int) -> None:
        self._write_some(self.fds["uart_rx"], self.uart_in)

    @staticmethod
    def _write_some(fd: int, buf: bytearray) -> None:
        try:
            n = os.write(fd, buf[:CHUNK])
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            if e.errno in (errno.EIO, errno.EPIPE):
                buf.clear()  # nobody on the other side: the bytes are lost, as on a wire
                return
            raise
        del buf[:n]

    def _accept(self, ev: int) -> None:
        assert self.b._listener is not None
        try:
            conn, _ = self.b._listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.b._cond:
            self.b._clients[conn] = bytearray()
            self.b._cond.notify_all()

    def _tcp_client(self, c: socket.socket, ev: int) -> None:
        out = self.b._clients.get(c)
        if out is None:
            return
        try:
            if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                data = c.recv(CHUNK)
                if not data:
                    raise ConnectionResetError
                _append_bounded(self.uart_in, data)
            if ev & select.POLLOUT and out:
                del out[: c.send(out[:CHUNK])]
        except BlockingIOError:
            pass
        except OSError:
            del self.b._clients[c]
            c.close()


class EmulatedBoard:
    """A MicroPython board emulated by node; use as a context manager.

    flash_dir: host directory holding the board's filesystem (created if missing).
    uart_pty: expose the flight UART as a pty (`uart_port`).
    uart_tcp: also serve it on 127.0.0.1 at this port (0 = any free port; see `uart_tcp`).
    uart_id: the `machine.UART` id wired to the host (1 on this project's boards).
    virtual_clock: time.ticks_ms() only moves by sleeps and main-loop ticks (fast, deterministic).
    heap_kb: the first GC heap area; the port grows the heap beyond it (no hard RAM limit, see heap_report).
    flash_kb: flash size reported by os.statvfs (`mpremote df`); not enforced.
    link / uart_link: optional symlinks to the pty paths (stable names for scripts).
    board_speed: a board ("rp2040") whose speed the board's clock keeps: ticks_ms/ticks_us advance by
      the CPU time of the Python code x a factor calibrated at power-on (docs/board-speed.md);
    speed_factor: that factor given directly. `speed` then holds the factor and its calibration.
    rom_kb: a ROM partition of this size (0: none), as a stock firmware's ROMFS partition: `vfs.rom_ioctl`
      writes it, a ROMFS image in it is mounted at /rom and its .mpy run in place (outside the heap).
      Its bytes persist in `rom_file` (default: beside flash_dir, `<flash_dir>.rom0`), not in the flash.
    """

    def __init__(
        self,
        flash_dir: str | os.PathLike[str],
        *,
        uart_pty: bool = True,
        uart_tcp: int | None = None,
        uart_id: int = 1,
        virtual_clock: bool = False,
        heap_kb: int = 192,
        flash_kb: int = 2048,
        link: str | os.PathLike[str] | None = None,
        uart_link: str | os.PathLike[str] | None = None,
        start_timeout: float = 20.0,
        node: str | None = None,
        log_console: bool = False,
        board_speed: str | None = None,
        speed_factor: float | None = None,
        rom_kb: int = 0,
        rom_file: str | os.PathLike[str] | None = None,
    ) -> None:
        from ground.board_speed import BoardSpeedError, emulator_args

        try:
            self._speed_args = emulator_args(board_speed, speed_factor)
        except BoardSpeedError as e:
            raise EmulatorError(str(e)) from None
        self.board_speed = board_speed
        self.speed: dict[str, Any] | None = None  # from the board's "ready" event
        self.flash_dir = Path(flash_dir)
        self.uart_id = uart_id
        self.virtual_clock = virtual_clock
        self.heap_kb = heap_kb
        self.flash_kb = flash_kb
        if not 0 <= rom_kb <= 16384:
            raise EmulatorError("rom_kb must be 0..16384, got %d" % rom_kb)
        self.rom_kb = rom_kb
        default_rom = self.flash_dir.with_name(self.flash_dir.name + ".rom0")
        self.rom_file = Path(rom_file) if rom_file else default_rom
        self.start_timeout = start_timeout
        self._want_uart_pty = uart_pty
        self._want_uart_tcp = uart_tcp
        self._link = Path(link) if link else None
        self._uart_link = Path(uart_link) if uart_link else None
        self._node = node
        self._log_console = log_console
        self.console_log = bytearray()  # everything the board printed (when log_console)
        self.console_seen = 0  # bytes printed so far, also those scrolled out of console_log
        self.port = ""
        self.uart_port: str | None = None
        self.uart_tcp: int | None = None
        self.events: list[dict[str, Any]] = []
        self.errors: deque[str] = deque(maxlen=50)
        self._cond = threading.Condition()
        self._con_master = self._con_slave = -1
        self._uart_master = self._uart_slave = -1
        self._listener: socket.socket | None = None
        self._clients: dict[socket.socket, bytearray] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._relay: _Relay | None = None
        self._parent_fds: list[int] = []
        self._node_eof = False
        self._relay_done = False

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> EmulatedBoard:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Create the ptys (and TCP port) and power the board on."""
        if self._proc is not None:
            raise EmulatorError("board already started")
        what = "opening the console pty"
        try:
            self._con_master, self._con_slave, self.port = _open_pty()
            if self._want_uart_pty:
                what = "opening the UART pty"
                self._uart_master, self._uart_slave, self.uart_port = _open_pty()
            if self._want_uart_tcp is not None:
                what = "serving the UART on 127.0.0.1:%d" % self._want_uart_tcp
                ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    ls.bind(("127.0.0.1", self._want_uart_tcp))
                except BaseException:
                    ls.close()
                    raise
                ls.listen(4)
                ls.setblocking(False)
                self._listener = ls
                self.uart_tcp = ls.getsockname()[1]
            what = "creating the port links"
            self._make_links()
            what = "powering the board on (flash %s)" % self.flash_dir
            self._power_on()
        except (OSError, OverflowError) as e:
            self.close()
            # a busy TCP port, a flash folder that is a file or read-only, a link in a missing folder
            why = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
            name = " (%s)" % e.filename if isinstance(e, OSError) and e.filename else ""
            raise EmulatorError(
                "cannot start the emulated board while %s: %s%s" % (what, why, name)
            ) from None
        except BaseException:
            self.close()
            raise

    def restart(self) -> None:
        """Power-cycle: node exits (flash written back) and a new one boots; ports stay the same."""
        self._power_off()
        self._power_on()

    def close(self) -> None:
        """Power off and release ptys, sockets and links; safe to call twice."""
        self._power_off()
        for c in list(self._clients):
            c.close()
        self._clients.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for fd in (self._con_master, self._con_slave, self._uart_master, self._uart_slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._con_master = self._con_slave = self._uart_master = self._uart_slave = -1
        for lk in (self._link, self._uart_link):
            if lk is not None and lk.is_symlink():
                lk.unlink()

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _make_links(self) -> None:
        for lk, target in ((self._link, self.port), (self._uart_link, self.uart_port)):
            if lk is None or target is None:
                continue
            if lk.is_symlink() or lk.exists():
                if not lk.is_symlink():
                    raise EmulatorError("%s exists and is not a symlink" % lk)
                lk.unlink()
            lk.symlink_to(target)

    def _node_cmd(self) -> list[str]:
        node = self._node or shutil.which("node")
        if not node:
            raise EmulatorError("node not found on PATH: run ./dev.sh setup (installs nodejs)")
        if not (EMUBOARD_DIR / "node_modules" / PACKAGE / "micropython.mjs").exists():
            raise EmulatorError("%s is not installed: run tools/emuboard/setup.sh" % PACKAGE)
        return [
            node, str(BOARD_JS), "--flash", str(self.flash_dir),
            "--heap-kb", str(self.heap_kb), "--flash-kb", str(self.flash_kb), *self._speed_args,
            *(["--rom-kb", str(self.rom_kb), "--rom", str(self.rom_file)] if self.rom_kb else []),
        ]  # fmt: skip

    def _power_on(self) -> None:
        cmd = self._node_cmd()
        self.flash_dir.mkdir(parents=True, exist_ok=True)
        stdin_r, stdin_w = _nonblocking_pipe(True, True)
        stdout_r, stdout_w = _nonblocking_pipe(True, False)
        stderr_r, stderr_w = _nonblocking_pipe(True, False)
        status_r, status_w = _nonblocking_pipe(True, False)
        uart_rx_r, uart_rx_w = _nonblocking_pipe(True, True)  # board polls it inside Python calls
        uart_tx_r, uart_tx_w = _nonblocking_pipe(True, False)
        child = [stdin_r, stdout_w, stderr_w, status_w, uart_rx_r, uart_tx_w]
        parent = {
            "stdin": stdin_w,
            "stdout": stdout_r,
            "stderr": stderr_r,
            "status": status_r,
            "uart_rx": uart_rx_w,
            "uart_tx": uart_tx_r,
        }
        cmd += [
            "--status-fd",
            str(status_w),
            "--uart-rx-fd",
            str(uart_rx_r),
            "--uart-tx-fd",
            str(uart_tx_w),
            "--uart-id",
            str(self.uart_id),
        ]
        if self.virtual_clock:
            cmd.append("--virtual-clock")
        self._node_eof = self._relay_done = False
        self.events = []
        try:
            # Own session: a Ctrl-C in the operator's terminal reaches the launcher, which then shuts
            # node down cleanly (flash written back) instead of killing it mid-write.
            self._proc = subprocess.Popen(
                cmd,
                stdin=stdin_r,
                stdout=stdout_w,
                stderr=stderr_w,
                pass_fds=(status_w, uart_rx_r, uart_tx_w),
                start_new_session=True,
                cwd=str(EMUBOARD_DIR),
            )
        finally:
            for fd in child:
                os.close(fd)
        self._parent_fds = list(parent.values())
        self._relay = _Relay(self, parent)
        self._relay.start()
        deadline = time.monotonic() + self.start_timeout
        with self._cond:
            while not any(e.get("event") == "ready" for e in self.events):
                left = deadline - time.monotonic()
                if self._proc.poll() is not None or self._relay_done or left <= 0:
                    break
                self._cond.wait(min(left, 0.1))
        ready = [e for e in self.events if e.get("event") == "ready"]
        if ready:
            self.speed = ready[0].get("speed")
            if self.speed is not None and self.board_speed:
                self.speed["board"] = self.board_speed
        if not ready:
            why = "exited with %s" % self._proc.poll() if self._proc.poll() is not None else "timed out"
            if self._proc.poll() is not None:  # let the relay drain node's last stderr (it sees EOF)
                self._wait(lambda: self._node_eof or self._relay_done, 1.0)
            err = "".join(self.errors)[-2000:]
            self._power_off()
            raise EmulatorError("emulated board did not start (%s): %s" % (why, err.strip()))

    def _power_off(self, timeout: float = 5.0) -> None:
        proc, relay = self._proc, self._relay
        if proc is None:
            return
        # EOF on stdin asks node to write the flash back and exit; signals only if it does not. The relay
        # stops first (no thread touches the fds being closed); node's stdout and UART pipes close too, so
        # node can never block on a full pipe while shutting down (it ignores SIGPIPE).
        if relay is not None:
            relay.stop()
        keep = {relay.fds.get("stderr", -1), relay.fds.get("status", -1)} if relay is not None else set()
        for fd in self._parent_fds:
            if fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)
        for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(wait)
        proc.wait()  # reap: no zombie
        if relay is not None:
            with contextlib.suppress(OSError):
                tail = os.read(relay.fds["stderr"], CHUNK) if relay.fds.get("stderr", -1) >= 0 else b""
                if tail:
                    self._note_error(tail.decode("utf-8", "replace"))
        for fd in keep:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._parent_fds = []
        self._proc = self._relay = None

    # -- called from the relay thread -------------------------------------------------------------
    def _status_event(self, ev: dict[str, Any]) -> None:
        with self._cond:
            self.events.append(ev)
            self._cond.notify_all()

    def _note_error(self, text: str) -> None:
        self.errors.append(text)

    def _console_log(self, data: bytes) -> None:
        if self._log_console:
            with self._cond:
                _append_bounded(self.console_log, data, 4 * BUF_LIMIT)
                self.console_seen += len(data)
                self._cond.notify_all()

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

    from ground.flash.raw_repl import enter_raw_repl

    t = SerialTransport(port, baudrate=115200)
    try:
        enter_raw_repl(t, soft_reset=False)
        # The port collects only when control returns to JS, so collect in one command, measure in the next.
        t.exec("import gc\ngc.collect()")
        out = t.exec(
            "import gc\ntry:\n import emuboard\n r=emuboard.heap_report()\nexcept ImportError:\n"
            " a=gc.mem_alloc()\n r={'alloc':a,'peak':a,'heap':a+gc.mem_free()}\nprint(repr(r))"
        )
        t.exit_raw_repl()
    finally:
        t.close()
    r = ast.literal_eval(out.decode().strip())
    return {"current": int(r["alloc"]), "peak": max(int(r["peak"]), int(r["alloc"])), "heap": int(r["heap"])}


# ------------------------------------------------------------------------------------------- command line
def run_emulator(
    flash: str,
    *,
    link: str | None = None,
    uart_link: str | None = None,
    uart_tcp: int | None = None,
    uart_pty: bool = True,
    virtual_clock: bool = False,
    heap_kb: int = 192,
    flash_kb: int = 2048,
    echo: Callable[[str], None] | None = None,
    raise_errors: bool = False,
    board_speed: str | None = None,
    speed_factor: float | None = None,
    rom_kb: int = 0,
) -> int:
    """Run a board until SIGINT/SIGTERM (the body of `cubesat emulate`); restarts node if it crashes.

    Returns 0 after a clean stop, 1 if the board kept crashing. If it cannot start (no node, a busy
    TCP port, a flash folder that cannot be created or written) it echoes one `error: ...` line and
    returns 1, or with raise_errors raises EmulatorError with that line."""
    if echo is None:

        def echo(line: str) -> None:
            print(line, flush=True)  # the ports must reach a script reading our stdout through a pipe

    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with EmulatedBoard(
            flash,
            link=link,
            uart_link=uart_link,
            uart_tcp=uart_tcp,
            uart_pty=uart_pty,
            virtual_clock=virtual_clock,
            heap_kb=heap_kb,
            flash_kb=flash_kb,
            board_speed=board_speed,
            speed_factor=speed_factor,
            rom_kb=rom_kb,
        ) as board:
            echo("console  %s%s" % (board.port, "  (-> %s)" % link if link else ""))
            if board.speed:
                echo("speed    %s" % describe_speed(board.speed))
            if board.uart_port:
                echo("uart     %s%s" % (board.uart_port, "  (-> %s)" % uart_link if uart_link else ""))
            if board.uart_tcp is not None:
                echo("uart tcp socket://127.0.0.1:%d" % board.uart_tcp)
            echo("flash    %s" % Path(flash).resolve())
            if rom_kb:
                echo("rom      %d KiB ROMFS partition, kept in %s" % (rom_kb, board.rom_file.resolve()))
            echo("try: mpremote connect %s repl   (Ctrl-C here stops the board)" % (link or board.port))
            crashes = 0
            while not stop.wait(0.2):
                if not board.alive:
                    crashes += 1
                    echo("board crashed: %s" % "".join(board.errors)[-500:].strip())
                    if crashes > 3:
                        return 1
                    board.restart()
    except EmulatorError as e:
        if raise_errors:
            raise
        echo("error: %s" % e)
        return 1
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 0


def describe_speed(speed: dict[str, Any]) -> str:
    """One line: the clock factor and, when calibrated, where it came from."""
    if "kernel_us" not in speed:
        return "board clock = CPU time x %.3g" % speed["factor"]
    return (
        "board clock = CPU time x %.3g (%s: %gx the unix port; speed kernel %.0f us here, %.0f us on the "
        "unix port)"
        % (speed["factor"], speed.get("board", "board"), speed["board_factor"], speed["kernel_us"],
           speed["unix_kernel_us"])
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="emuboard", description=run_emulator.__doc__)
    ap.add_argument("--flash", default="out/emuboard-flash", help="host directory holding the board's flash")
    ap.add_argument("--link", help="symlink to create for the console pty")
    ap.add_argument("--uart-link", help="symlink to create for the UART pty")
    ap.add_argument("--uart-tcp", type=int, help="also serve the UART on 127.0.0.1:PORT (0 = any)")
    ap.add_argument("--virtual-clock", action="store_true", help="ticks_ms moves only by sleeps and ticks")
    ap.add_argument("--heap-kb", type=int, default=192, help="first GC heap area (the heap still grows)")
    ap.add_argument("--flash-kb", type=int, default=2048, help="flash size shown by os.statvfs")
    ap.add_argument(
        "--board", help="keep this board's speed (rp2040, stm32f4, ...): clock = CPU time x factor"
    )
    ap.add_argument("--speed-factor", type=float, help="board clock = CPU time x this factor")
    ap.add_argument("--rom-kb", type=int, default=0, help="a ROMFS partition of this size (0: none)")
    a = ap.parse_args(argv)
    return run_emulator(
        a.flash,
        link=a.link,
        uart_link=a.uart_link,
        uart_tcp=a.uart_tcp,
        virtual_clock=a.virtual_clock,
        heap_kb=a.heap_kb,
        flash_kb=a.flash_kb,
        board_speed=a.board,
        speed_factor=a.speed_factor,
        rom_kb=a.rom_kb,
    )


if __name__ == "__main__":
    sys.exit(main())
