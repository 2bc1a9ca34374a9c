"""Byte links between the ground and a spacecraft, twin or board: serial, TCP, UDP, with KISS.

    link = open_link("serial:///dev/ttyACM0?baud=115200")   # a real board (or a pty path)
    link = open_link("socket://127.0.0.1:5555")               # pyserial's TCP client URL
    link = open_link("tcp://127.0.0.1:5555")                  # plain TCP client
    link = open_link("udp://127.0.0.1:6000?bind=6001")        # one datagram per write
    link.write(data); chunk = link.read(timeout=0.1)

`KissLink` wraps any stream link so each write is one KISS frame and reads return whole
frames: what a serial line shared with console output needs. `ReconnectingLink` reopens a
dropped port with back-off and counts it; nothing already received is lost, because every
byte read is handed on before the reconnect.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import serial

from ground.errors import GroundError
from protocols import kiss


class LinkError(GroundError, OSError):
    """The link is down (closed port, refused connection)."""


class SerialLink:
    """pyserial: device paths, ptys and pyserial URLs (socket://, loop://, rfc2217://)."""

    def __init__(self, url: str, baud: int = 115200) -> None:
        try:
            self.port = serial.serial_for_url(url, baudrate=baud, timeout=0)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError("cannot open %s: %s" % (url, exc)) from exc

    def write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(str(exc)) from exc

    def read(self, timeout: float = 0.0) -> bytes:
        deadline = time.monotonic() + timeout
        try:
            while True:
                data = self.port.read(self.port.in_waiting or 1)
                if data or time.monotonic() >= deadline:
                    return data
                time.sleep(0.001)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(str(exc)) from exc

    def close(self) -> None:
        self.port.close()


class TcpLink:
    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise LinkError("cannot connect to %s:%d: %s" % (host, port, exc)) from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise LinkError(str(exc)) from exc

    def read(self, timeout: float = 0.0) -> bytes:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return b""
        try:
            data = self.sock.recv(65536)
        except OSError as exc:
            raise LinkError(str(exc)) from exc
        if not data:
            raise LinkError("connection closed by peer")
        return data

    def close(self) -> None:
        self.sock.close()


class UdpLink:
    """One write = one datagram to the peer; reads return one datagram."""

    def __init__(self, host: str, port: int, bind_port: int = 0) -> None:
        self.peer = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind(("127.0.0.1" if host in ("127.0.0.1", "localhost") else "", bind_port))
        except OSError as exc:
            self.sock.close()
            raise LinkError("cannot bind UDP port %d: %s" % (bind_port, exc.strerror or exc)) from exc

    @property
    def local_port(self) -> int:
        return int(self.sock.getsockname()[1])

    def write(self, data: bytes) -> None:
        try:
            self.sock.sendto(data, self.peer)
        except OSError as exc:
            raise LinkError(str(exc)) from exc

    def read(self, timeout: float = 0.0) -> bytes:
        ready, _, _ = select.select([self.sock], [], [], timeout)
        return self.sock.recvfrom(65536)[0] if ready else b""

    def close(self) -> None:
        self.sock.close()


PYSERIAL_SCHEMES = ("socket", "loop", "rfc2217", "spy", "hwgrep", "alt")
USAGE = "tcp://HOST:PORT, udp://HOST:PORT, socket://HOST:PORT, serial:///dev/ttyACM0?baud=N or a device path"


def _number(query: dict[str, str], name: str, default: int, lo: int, hi: int, url: str) -> int:
    try:
        value = int(query.get(name, default))
    except ValueError:
        raise LinkError("%s: %s=%r is not a number" % (url, name, query[name])) from None
    if not lo <= value <= hi:
        raise LinkError("%s: %s=%d is out of range %d..%d" % (url, name, value, lo, hi))
    return value


def _host_port(u, url: str) -> tuple[str, int]:
    try:
        port = u.port
    except ValueError:
        raise LinkError("%s: the port must be 1..65535" % url) from None
    if not port:
        raise LinkError("%s: no port (use %s)" % (url, USAGE))
    return u.hostname or "127.0.0.1", port


def open_link(url: str):
    """A link from a URL: serial://PATH?baud=N, a bare device/pty path, socket://, loop://, tcp://, udp://.

    A URL this cannot open raises LinkError naming it and saying what would work."""
    u = urlparse(url)
    query = {k: v[-1] for k, v in parse_qs(u.query).items()}
    if u.scheme == "tcp":
        return TcpLink(*_host_port(u, url))
    if u.scheme == "udp":
        host, port = _host_port(u, url)
        return UdpLink(host, port, _number(query, "bind", 0, 0, 65535, url))
    if u.scheme in ("serial", "", "file"):
        path = u.path or url
        if not path:
            raise LinkError("no link given (use %s)" % USAGE)
        return SerialLink(path, _number(query, "baud", 115200, 50, 12_000_000, url))
    if u.scheme in PYSERIAL_SCHEMES:
        if u.scheme == "socket":
            _host_port(u, url)
        return SerialLink(url)
    raise LinkError("unknown link scheme %r in %s (use %s)" % (u.scheme + "://", url, USAGE))


class KissLink:
    """Frames over a byte stream: write(frame) sends one KISS frame; read_frames() returns whole ones."""

    def __init__(self, link, port: int = 0, max_frame: int = 4096) -> None:
        self.link = link
        self.port = port
        self.decoder = kiss.KissDecoder(max_frame=max_frame)

    def write(self, frame: bytes) -> None:
        self.link.write(kiss.encode(frame, port=self.port))

    def read_frames(self, timeout: float = 0.0) -> list[bytes]:
        return [
            payload for port, _, payload in self.decoder.feed(self.link.read(timeout)) if port == self.port
        ]

    def close(self) -> None:
        self.link.close()


class ReconnectingLink:
    """Reopens the link after it drops (unplugged USB, restarted twin), with capped back-off."""

    def __init__(self, opener: Callable[[], object], max_backoff: float = 2.0) -> None:
        self.opener = opener
        self.max_backoff = max_backoff
        self.link = None
        self.reconnects = 0
        self.failures = 0
        self._backoff = 0.05
        self._next_try = 0.0

    def _ensure(self) -> bool:
        if self.link is not None:
            return True
        if time.monotonic() < self._next_try:
            return False
        try:
            self.link = self.opener()
        except LinkError:
            self.failures += 1
            self._next_try = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, self.max_backoff)
            return False
        if self.failures or self.reconnects:
            self.reconnects += 1
        self._backoff = 0.05
        return True

    def _drop(self) -> None:
        try:
            self.link.close()  # type: ignore[union-attr]
        except OSError:
            pass
        self.link = None
        self.failures += 1

    def read(self, timeout: float = 0.0) -> bytes:
        if not self._ensure():
            time.sleep(min(timeout, 0.01))
            return b""
        try:
            return self.link.read(timeout)  # type: ignore[union-attr]
        except LinkError:
            self._drop()
            return b""

    def write(self, data: bytes) -> bool:
        """True if the bytes went out; False if the link is down (the caller keeps them)."""
        if not self._ensure():
            return False
        try:
            self.link.write(data)  # type: ignore[union-attr]
            return True
        except LinkError:
            self._drop()
            return False

    def close(self) -> None:
        if self.link is not None:
            self.link.close()  # type: ignore[attr-defined]
