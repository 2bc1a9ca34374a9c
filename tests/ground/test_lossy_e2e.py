"""The CLI through a lossy TCP link to the twin: bit errors both ways, dropped uplink chunks, garbage.

COP-1 must still get every command verified, RS must still deliver every housekeeping report
(archive without gaps), and garbage/bad frames must only show up as counters."""

from __future__ import annotations

import itertools
import random
import select
import socket
import threading

from click.testing import CliRunner

from ground import cli
from ground.archive import Archive
from ground.mission import flip_bits
from ground.twin import TwinServer


class LossyProxy:
    """127.0.0.1 proxy: flips bits both ways, drops some uplink chunks, injects garbage downlink."""

    def __init__(self, target_port: int, ber: float = 1e-4, drop_up: float = 0.2, seed: int = 7) -> None:
        self.target = target_port
        self.ber = ber
        self.drop_up = drop_up
        self.rnd = random.Random(seed)
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.port = self.srv.getsockname()[1]
        self.stop = threading.Event()
        self.dropped = 0
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
            ready, _, _ = select.select([client, upstream], [], [], 0.05)
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
                    if self.rnd.random() < self.drop_up:
                        self.dropped += 1
                        continue
                    upstream.sendall(flip_bits(data, self.ber, self.rnd))
                else:
                    if self.rnd.random() < 0.1:
                        data = self.rnd.randbytes(17) + data  # line noise: a slip within the sync window
                    client.sendall(flip_bits(data, self.ber, self.rnd))

    def close(self) -> None:
        self.stop.set()
        self.srv.close()


def test_commands_and_telemetry_survive_a_lossy_link(tmp_path, link_seed: int) -> None:
    twin = TwinServer(port=0, speed=40.0)
    th = threading.Thread(target=twin.serve, daemon=True)
    th.start()
    proxy = LossyProxy(twin.port, seed=link_seed)
    url = "tcp://127.0.0.1:%d" % proxy.port
    try:
        for _ in range(8):
            r = CliRunner().invoke(cli.main, ["send", "ping", "--link", url, "--timeout", "15"])
            assert r.exit_code == 0, r.output
        db = tmp_path / "lossy.sqlite"
        r = CliRunner().invoke(
            cli.main, ["watch", "--link", url, "--seconds", "3", "--archive", str(db)], env={"COLUMNS": "160"}
        )
        assert r.exit_code == 0, r.output
    finally:
        proxy.close()
        twin.stop()
        th.join(5)
        twin.close()
    assert proxy.dropped > 0  # the uplink really lost chunks and COP-1 really recovered
    times, _ = Archive(db).samples(0x2A, "soc", 0, 1e12)
    assert len(times) >= 8
    gaps = {round(b - a) for a, b in itertools.pairwise(times[1:])}  # skip the first partial interval
    assert gaps == {10}, gaps  # one report every 10 s of mission time, none lost
