"""`cubesat twin`: the flight application on simulated hardware, served on a TCP port or a pty.

It speaks the real link: CLTUs (COP-1 TC frames, optionally SDLS-authenticated) in, CADUs
(RS x I, randomized, CLCW in every TM frame) out. Behind it runs flight.app.FlightApp on the
hal.sim world (ground.flight_twin): executive, PUS services, modes, FDIR, persisted storage in
a flash folder (a temporary one unless --flash is given). `--speed` x real time; one tick of
flight code per 100 ms of mission time, the uplink is read continuously between ticks.
"""

from __future__ import annotations

import os
import select
import socket
import tempfile
import threading
import time
import tty

from ground.flight_twin import FlightTwin, default_environment


class TwinServer:
    def __init__(
        self,
        port: int = 0,
        use_pty: bool = False,
        speed: float = 1.0,
        interleave: int = 5,
        key: bytes | None = None,
        scid: int = 0x2A,
        flash_dir: str | None = None,
        tumble_dps: float = 2.0,
        soc: float = 0.8,
    ) -> None:
        self._tmp = None
        if flash_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="twin-flash-")
            flash_dir = self._tmp.name
        self.twin = FlightTwin(
            flash_dir, default_environment(tumble_dps, soc), scid=scid, key=key, interleave=interleave
        )
        self.speed = speed
        self._stop = threading.Event()
        self._reset_cause: int | None = None
        self.clients: list = []
        self.pty_master = None
        self.pty_path = None
        self.sock = None
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
        self.port = self.sock.getsockname()[1] if self.sock else None

    @property
    def app(self):
        """The flight application now running (a new one after every simulated reset)."""
        return self.twin.app

    def _send(self, data: bytes) -> None:
        if not data:
            return
        if self.pty_master is not None:
            try:
                os.write(self.pty_master, data)
            except OSError:
                pass
        for c in list(self.clients):
            try:
                c.sendall(data)
            except OSError:
                self.clients.remove(c)

    def _receive(self, timeout: float) -> bytes:
        fds = (
            list(self.clients)
            + ([self.sock] if self.sock else [])
            + ([self.pty_master] if self.pty_master is not None else [])
        )
        ready, _, _ = select.select(fds, [], [], timeout)
        data = b""
        for r in ready:
            if r is self.sock:
                conn, _ = self.sock.accept()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.clients.append(conn)
            elif r == self.pty_master:
                try:
                    data += os.read(self.pty_master, 65536)
                except OSError:
                    pass
            else:
                try:
                    chunk = r.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self.clients.remove(r)
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

    def close(self) -> None:
        for c in self.clients:
            c.close()
        if self.sock:
            self.sock.close()
        if self.pty_master is not None:
            os.close(self.pty_master)
            os.close(self._slave)
        if self._tmp is not None:
            self._tmp.cleanup()
