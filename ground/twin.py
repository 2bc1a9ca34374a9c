"""`cubesat twin`: the stand-in spacecraft of `ground.mission` served on a TCP port or a pty.

It speaks the real link: CLTUs (COP-1 TC frames) in, CADUs (RS I=5, randomized, CLCW in
every TM frame) out, housekeeping every 10 s of mission time, `--speed` x real time. Until
the flight application lands (issue 4) the spacecraft answers PUS-17 pings and reports
every other command as accepted, then failed with code 1 ("not implemented in the stand-in").
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty

from ground.mission import StandInSpacecraft
from protocols.sdls import SecurityAssociation, SecurityEndpoint


class TwinServer:
    def __init__(
        self,
        port: int = 0,
        use_pty: bool = False,
        speed: float = 1.0,
        interleave: int = 5,
        hk_period_s: float = 10.0,
        key: bytes | None = None,
        scid: int = 0x2A,
    ) -> None:
        self.sc = StandInSpacecraft(interleave, scid=scid)
        if key is not None:
            # ground sessions number frames from a millisecond clock: accept any number above the last
            self.sc.security = SecurityEndpoint([SecurityAssociation(1, key, window=None)])
        self.speed = speed
        self.hk_period = hk_period_s
        self._stop = threading.Event()
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
        tick = 1.0
        next_hk = 0.0
        wall_next = time.monotonic()
        while not self._stop.is_set() and (seconds is None or self.sc.t < seconds):
            replies: list[bytes] = []
            # serve the uplink continuously within the tick so command round trips stay short
            wall_next += tick / self.speed
            while True:
                left = wall_next - time.monotonic()
                data = self._receive(max(0.0, min(left, 0.02)))
                if data:
                    out = self.sc.uplink(data)
                    if out:
                        self._send(self.sc.downlink(out, flush=True))
                if left <= 0 or self._stop.is_set():
                    break
            self.sc.step(tick)
            if self.sc.t >= next_hk:
                replies.append(self.sc.housekeeping())
                next_hk += self.hk_period
            if replies:
                self._send(self.sc.downlink(replies, flush=True))

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
