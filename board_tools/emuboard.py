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

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Any

from board_tools.emuboard_console import BoardWaits
from board_tools.emuboard_relay import (
    BUF_LIMIT,
    CHUNK,
    EmulatorError,
    _append_bounded,
    _nonblocking_pipe,
    _open_pty,
    _Relay,
)

ROOT = Path(__file__).resolve().parent.parent
EMUBOARD_DIR = ROOT / "tools" / "emuboard"
BOARD_JS = EMUBOARD_DIR / "board.mjs"
PACKAGE = "@micropython/micropython-webassembly-pyscript"


class EmulatedBoard(BoardWaits):
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
        from board_tools.board_speed import BoardSpeedError, emulator_args

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


if __name__ == "__main__":  # python -m board_tools.emuboard: as `cubesat emulate`
    from board_tools.emuboard_run import main

    sys.exit(main())
