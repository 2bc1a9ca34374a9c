"""The emulated board's plumbing: the ptys, node's pipes and the relay thread that moves bytes
between them (board_tools/emuboard.py owns the node process and uses this).

The launcher holds the pty slaves open (so the masters never see EIO between clients) and relays
bytes between them and node's pipes in one thread, with bounded buffers: output nobody reads is
dropped, as a USB CDC port does when no host listens.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import socket
import threading
import tty
from collections.abc import Callable
from typing import TYPE_CHECKING

from board_tools.errors import BoardToolsError

if TYPE_CHECKING:
    from board_tools.emuboard import EmulatedBoard

BUF_LIMIT = 1 << 20  # bytes kept per direction when the reader is not keeping up
CHUNK = 65536


class EmulatorError(BoardToolsError, RuntimeError):
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
