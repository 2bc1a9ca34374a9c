"""Links over real OS plumbing: a pty pair (like a USB serial board), TCP and UDP on loopback,
KISS framing with console noise, and reconnection after the far end goes away."""

from __future__ import annotations

import os
import socket
import threading
import time
import tty

import pytest

from ground.transport import KissLink, LinkError, ReconnectingLink, TcpLink, UdpLink, open_link
from protocols import kiss


def _read_all(link, n: int, timeout: float = 2.0) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while len(data) < n and time.monotonic() < deadline:
        data += link.read(0.05)
    return data


def test_serial_link_over_a_pty() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    link = open_link("serial://%s?baud=115200" % os.ttyname(slave))
    os.write(master, b"hello board")
    assert _read_all(link, 11) == b"hello board"
    link.write(b"\x1a\xcf\xfc\x1d" * 100)
    got = b""
    while len(got) < 400:
        got += os.read(master, 4096)
    assert got == b"\x1a\xcf\xfc\x1d" * 100
    link.close()
    os.close(master)
    os.close(slave)


def test_kiss_link_survives_console_noise_on_the_same_line() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    link = KissLink(open_link(os.ttyname(slave)))
    os.write(
        master,
        b"MicroPython v1.27 boot ok\r\n>>> "
        + kiss.encode(b"\xc0frame\xdb")
        + b"print noise\r\n"
        + kiss.encode(b"second"),
    )
    frames: list[bytes] = []
    deadline = time.monotonic() + 2
    while len(frames) < 2 and time.monotonic() < deadline:
        frames += link.read_frames(0.05)
    assert frames == [b"\xc0frame\xdb", b"second"]
    link.write(b"up")
    assert os.read(master, 64) == kiss.encode(b"up")
    link.close()
    os.close(master)
    os.close(slave)


def _server(port: int = 0) -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    return srv, srv.getsockname()[1]


def _held_port() -> tuple[socket.socket, int]:
    """A loopback port kept for the test while its server is closed: bound (SO_REUSEADDR, so the
    test's server binds it too), never listening, so a connection is refused, and no other
    process's ephemeral port (pytest-xdist workers run other tests meanwhile) can take it."""
    hold = socket.socket()
    hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    hold.bind(("127.0.0.1", 0))
    return hold, hold.getsockname()[1]


def test_tcp_and_socket_url_links() -> None:
    srv, port = _server()
    for url in ("tcp://127.0.0.1:%d" % port, "socket://127.0.0.1:%d" % port):
        link = open_link(url)
        conn, _ = srv.accept()
        conn.sendall(b"tm" * 1000)
        assert _read_all(link, 2000) == b"tm" * 1000
        link.write(b"tc")
        assert conn.recv(16) == b"tc"
        conn.close()
        link.close()
    srv.close()


def test_tcp_refused_is_a_link_error() -> None:
    hold, port = _held_port()
    srv, _ = _server(port)
    srv.close()
    with pytest.raises(LinkError):
        TcpLink("127.0.0.1", port, timeout=1)
    hold.close()


def test_udp_datagrams_keep_their_boundaries() -> None:
    a = UdpLink("127.0.0.1", 9, 0)
    b = UdpLink("127.0.0.1", a.local_port, 0)
    a.peer = ("127.0.0.1", b.local_port)
    b.write(b"one")
    b.write(b"two")
    assert a.read(1.0) == b"one" and a.read(1.0) == b"two"
    a.close()
    b.close()


def test_reconnect_after_the_twin_restarts_without_losing_received_bytes() -> None:
    hold, port = _held_port()  # the twin comes back on the same port
    srv, _ = _server(port)
    link = ReconnectingLink(lambda: TcpLink("127.0.0.1", port, timeout=1))
    assert link.write(b"hello")
    conn, _ = srv.accept()
    conn.sendall(b"before drop")
    assert _read_all(link, 11) == b"before drop"
    conn.close()
    srv.close()  # the far end goes away entirely
    deadline = time.monotonic() + 1
    while link.link is not None and time.monotonic() < deadline:
        link.read(0.05)
    assert link.link is None and not link.write(b"lost?")  # the caller is told, keeps the bytes
    srv2, _ = _server(port)

    read = threading.Event()

    def serve() -> None:
        c, _ = srv2.accept()
        c.sendall(b"after restart")
        read.wait(10)  # keep the connection up until the client has the bytes
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    assert _read_all(link, 13, timeout=5) == b"after restart"
    read.set()
    assert link.reconnects == 1
    t.join()
    srv2.close()
    hold.close()
