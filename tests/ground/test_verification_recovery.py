"""Verification reports lost on the downlink are recovered (TC 1,128) instead of `send` giving up."""

from __future__ import annotations

import select
import socket
import threading
import time

from click.testing import CliRunner

from ground import cli
from ground.twin import TwinServer
from protocols import cltu, tcframe


class DownlinkBlackout:
    """127.0.0.1 proxy that drops all downlink for `blackout_s` after the first AD frame goes up."""

    def __init__(self, target_port: int, blackout_s: float = 0.5) -> None:
        self.target = target_port
        self.blackout_s = blackout_s
        self.until = 0.0
        self.dropped = 0
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(2)
        self.port = self.srv.getsockname()[1]
        self.stop = threading.Event()
        self.armed = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.srv.settimeout(0.1)
        while not self.stop.is_set():
            try:
                client, _ = self.srv.accept()
            except OSError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        while not self.stop.is_set():
            ready, _, _ = select.select([client, upstream], [], [], 0.02)
            for s in ready:
                try:
                    data = s.recv(65536)
                except OSError:
                    return
                if not data:
                    client.close()
                    upstream.close()
                    return
                if s is client:
                    if self.armed and not tcframe.unpack_with_fill(cltu.decode(data)[0]).control:
                        self.armed = False
                        self.until = time.monotonic() + self.blackout_s
                    upstream.sendall(data)
                elif time.monotonic() < self.until:
                    self.dropped += len(data)
                else:
                    client.sendall(data)

    def close(self) -> None:
        self.stop.set()
        self.srv.close()


def test_send_recovers_reports_lost_on_the_downlink() -> None:
    twin = TwinServer(port=0, speed=20.0)
    th = threading.Thread(target=twin.serve, daemon=True)
    th.start()
    proxy = DownlinkBlackout(twin.port)
    try:
        url = "tcp://127.0.0.1:%d" % proxy.port
        r = CliRunner().invoke(
            cli.main, ["send", "param_get", "param_id=11", "--link", url, "--timeout", "15"]
        )
    finally:
        proxy.close()
        twin.stop()
        th.join(5)
        twin.close()
    assert proxy.dropped > 0 and not proxy.armed  # the blackout really swallowed the first reports
    assert r.exit_code == 0, r.output
    assert "accepted, started, completed" in r.output and "verification queries" in r.output
    assert twin.app.dispatcher.ok == 2  # param_get once (COP-1 delivered it exactly once) + the query
