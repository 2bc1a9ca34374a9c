"""`cubesat twin`: the flight application on simulated hardware, served on a TCP port or a pty.

It speaks the real link: CLTUs (COP-1 TC frames, optionally SDLS-authenticated) in, CADUs
(RS x I, randomized, CLCW in every TM frame) out. Behind it runs flight.app.FlightApp on the
hal.sim world (ground.flight_twin): executive, PUS services, modes, FDIR, persisted storage in
a flash folder (a temporary one unless --flash is given). `--speed` x real time; one tick of
flight code per 100 ms of mission time, the uplink is read continuously between ticks.

Nothing a client does can stop the flight loop: every TCP client has a bounded output queue
and is dropped (and logged) when it does not read; a flash folder is locked by the twin that
flies on it before anything boots; a keyed twin keeps its anti-replay window in its flash.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import math
import os
import select
import socket
import tempfile
import threading
import time
import tty
from typing import TYPE_CHECKING

from ground import DEFAULT_SCID
from ground.errors import GroundError
from ground.flight_twin import FlightTwin, default_environment

if TYPE_CHECKING:
    from ground.passes import Station, Tle

log = logging.getLogger("cubesat.twin")
CLIENT_QUEUE_MAX = 1 << 20  # bytes of downlink a client may fall behind before it is dropped
CLIENT_SNDBUF = 64 * 1024
MAX_SPEED = 100_000.0


class TwinError(GroundError):
    """The twin cannot start as asked (busy flash folder, bad option); the message says why."""


def _lock_flash(flash_dir: str):
    """An exclusive lock on the flash folder, held for the twin's life (released if it dies)."""
    try:
        os.makedirs(flash_dir, exist_ok=True)
        fh = open(os.path.join(flash_dir, ".twin.lock"), "a+")  # noqa: SIM115 - held for the twin's life
    except OSError as exc:
        raise TwinError("cannot use flash folder %s: %s" % (flash_dir, exc.strerror or exc)) from None
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        fh.close()
        if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
            raise TwinError(
                "flash folder %s is in use by another twin (%s); stop it or use another --flash"
                % (flash_dir, holder)
            ) from None
        raise TwinError("cannot lock flash folder %s: %s" % (flash_dir, exc.strerror or exc)) from None
    fh.seek(0)
    fh.truncate()
    fh.write("pid %d" % os.getpid())
    fh.flush()
    return fh


class _Client:
    """One TCP client: its socket and the downlink it has not read yet (bounded)."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.out = bytearray()
        self.peer = "%s:%d" % conn.getpeername()[:2]

    def fileno(self) -> int:
        return self.conn.fileno()


class TwinServer:
    def __init__(
        self,
        port: int = 0,
        use_pty: bool = False,
        speed: float = 1.0,
        interleave: int = 5,
        key: bytes | None = None,
        scid: int = DEFAULT_SCID,
        flash_dir: str | None = None,
        tumble_dps: float = 2.0,
        soc: float = 0.8,
        admin_key: bytes | None = None,
        client_queue_max: int = CLIENT_QUEUE_MAX,
        board_speed: float | None = None,
        tle: Tle | None = None,
        station: Station | None = None,
        start_unix: float | None = None,
    ) -> None:
        if station is not None and tle is None:
            raise TwinError("a ground station (contact windows) needs the orbit as a TLE (--tle)")
        if not (isinstance(speed, (int, float)) and math.isfinite(speed) and 0 < speed <= MAX_SPEED):
            raise TwinError("speed must be a number above 0 and at most %g, got %r" % (MAX_SPEED, speed))
        if board_speed is not None and not (math.isfinite(board_speed) and board_speed > 0):
            raise TwinError("board speed must be a number above 0, got %r" % (board_speed,))
        if not 0 <= port <= 65535:
            raise TwinError("port must be 0..65535, got %d" % port)
        if key is not None and flash_dir is None:
            # a temporary flash would forget the anti-replay window: old frames would run again
            raise TwinError("a keyed twin needs a flash folder: its anti-replay window must survive restarts")
        env = default_environment(tumble_dps, soc)
        if start_unix is not None and tle is None:
            raise TwinError("a start time needs the orbit as a TLE (--tle)")
        if tle is not None:  # the orbit propagated from the TLE by SGP4, from its epoch or `start_unix`
            from ground.contact import TleOrbit
            from ground.passes import PassError

            t0 = tle.epoch_unix if start_unix is None else start_unix
            try:
                env = default_environment(tumble_dps, soc, TleOrbit(tle, t0), t0)
            except PassError as exc:
                raise TwinError(str(exc)) from None
        self._tmp = None
        if flash_dir is None:
            # a board's boot directory of its own: the flash folder inside it, and files/ (CFDP)
            # and the A/B slots beside it, never in the shared temporary folder
            self._tmp = tempfile.TemporaryDirectory(prefix="twin-board-")
            flash_dir = os.path.join(self._tmp.name, "flash")
        self._lock = _lock_flash(flash_dir)  # before the link opens and before anything boots
        self.speed = speed
        self.client_queue_max = client_queue_max
        self.dropped_clients = 0
        self._stop = threading.Event()
        self._reset_cause: int | None = None
        self.clients: list[_Client] = []
        self.pty_master = None
        self.pty_path = None
        self.sock = None
        try:
            if use_pty:
                self.pty_master, slave = os.openpty()
                tty.setraw(slave)
                self._slave = slave  # keep it open: reads on the master fail while no client holds it
                self.pty_path = os.ttyname(slave)
                os.set_blocking(self.pty_master, False)
            else:
                self.sock = socket.socket()
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                self.sock.bind(("127.0.0.1", port))
                self.sock.listen(4)
                self.sock.setblocking(False)
        except OSError:
            if self.sock is not None:
                self.sock.close()
            self._release()
            raise
        self.port = self.sock.getsockname()[1] if self.sock else None
        # the flight software boots only once its flash and its link are ours
        self.twin = FlightTwin(
            flash_dir,
            env,
            station=station,
            scid=scid,
            key=key,
            interleave=interleave,
            admin_key=admin_key,
            board_speed=board_speed,
        )

    @property
    def app(self):
        """The flight application now running (a new one after every simulated reset)."""
        return self.twin.app

    def _drop(self, c: _Client, why: str) -> None:
        if c in self.clients:
            self.clients.remove(c)
            c.conn.close()
            if why:
                self.dropped_clients += 1
                log.warning("twin: dropped client %s: %s", c.peer, why)

    def _flush(self, c: _Client) -> None:
        """Send what the client's socket takes now; never waits."""
        while c.out:
            try:
                n = c.conn.send(c.out)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._drop(c, "send failed: %s" % (exc.strerror or exc))
                return
            del c.out[:n]

    def _send(self, data: bytes) -> None:
        if not data:
            return
        if self.pty_master is not None:
            try:
                os.write(self.pty_master, data)
            except OSError:
                pass  # nobody reads the pty, or its buffer is full: the downlink is lost, as on air
        for c in list(self.clients):
            if len(c.out) + len(data) > self.client_queue_max:
                self._drop(c, "it did not read %d bytes of downlink" % len(c.out))
                continue
            c.out += data
            self._flush(c)

    def _receive(self, timeout: float) -> bytes:
        fds: list = list(self.clients) + ([self.sock] if self.sock else [])
        if self.pty_master is not None:
            fds.append(self.pty_master)
        pending = [c for c in self.clients if c.out]
        ready, writable, _ = select.select(fds, pending, [], timeout)
        for c in writable:
            self._flush(c)
        data = b""
        for r in ready:
            if r is self.sock:
                try:
                    conn, _ = self.sock.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                # a small kernel buffer: a client that stops reading shows in its queue at once
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CLIENT_SNDBUF)
                self.clients.append(_Client(conn))
            elif r == self.pty_master:
                try:
                    data += os.read(self.pty_master, 65536)
                except OSError:
                    pass
            elif r in self.clients:
                try:
                    chunk = r.conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    self._drop(r, "")
                data += chunk
        return data

    def serve(self, seconds: float | None = None) -> None:
        """Run until stop() (or for `seconds` of mission time)."""
        twin = self.twin
        tick_wall = twin.tick_ms / 1000.0 / self.speed
        wall_next = time.monotonic()
        while not self._stop.is_set() and (seconds is None or twin.t < seconds):
            wall_next += tick_wall
            while True:  # read the uplink until this tick is due
                left = wall_next - time.monotonic()
                data = self._receive(max(0.0, min(left, 0.02)))
                if data:
                    twin.link.ground_write(data)
                    twin.app.service_link()  # the UART RX interrupt: commands are not held to the tick
                    self._send(twin.link.ground_read())
                if left <= 0 or self._stop.is_set():
                    break
            if self._reset_cause is not None:
                cause, self._reset_cause = self._reset_cause, None
                twin.reset(cause)  # in the serving thread: never in the middle of a tick
            twin.step()
            self._send(twin.link.ground_read())
            if time.monotonic() - wall_next > 1.0:
                wall_next = time.monotonic()  # the host fell behind: go on from now, no burst

    def request_reset(self, cause: int = 0) -> None:
        """Reset the spacecraft at the next tick (0 power-on, 1 watchdog, 3 brown-out), thread-safe."""
        self._reset_cause = cause

    def stop(self) -> None:
        self._stop.set()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the flock
            self._lock = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def close(self) -> None:
        for c in self.clients:
            c.conn.close()
        self.clients = []
        if self.sock:
            self.sock.close()
        if self.pty_master is not None:
            os.close(self.pty_master)
            os.close(self._slave)
            self.pty_master = None
        self._release()
