"""Faults a user can cause around the twin never stop the flight loop, lose data or reopen replay.

- 200 back-to-back keyed `cubesat send` calls all complete (the ground's counter only grows);
- a keyed twin refuses a temporary flash, and a captured frame does not run again after a restart;
- a second twin on the same flash folder is refused before its flight software boots;
- a TCP client that never reads is dropped; the others go on being served;
- a command COP-1 delivered whose reports were all lost exits 5 (do not resend), never "no report".
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ground import cli
from ground.sdls_counter import SequenceCounter, clock_floor
from ground.twin import TwinError, TwinServer
from protocols import cltu, errors, sdls, sync, tm_extractor, tmframe
from protocols.pus import PusTc, PusTm

KEY = bytes(range(32))


def _wait(cond, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.01)


class Served:
    """A TwinServer serving in a thread for the test's duration."""

    def __init__(self, **kw) -> None:
        self.server = TwinServer(port=0, **kw)
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()
        self.url = "tcp://127.0.0.1:%d" % self.server.port

    def close(self) -> None:
        self.server.stop()
        self.thread.join(10)
        self.server.close()


def test_two_hundred_back_to_back_keyed_sends_all_complete(tmp_path: Path) -> None:
    key_file = tmp_path / "k.hex"
    key_file.write_text(KEY.hex())
    twin = Served(speed=100.0, key=KEY, flash_dir=str(tmp_path / "flash"))
    try:
        codes = []
        for _ in range(200):
            r = CliRunner().invoke(
                cli.main, ["send", "ping", "--link", twin.url, "--key-file", str(key_file)]
            )
            codes.append(r.exit_code)
        assert codes.count(0) == 200, codes
        assert twin.server.app.comms.security.replayed == 0
    finally:
        twin.close()
    assert int((tmp_path / "k.hex.sn").read_text()) >= clock_floor()  # persisted beside the key


def test_sequence_blocks_never_overlap_across_senders(tmp_path: Path) -> None:
    path = str(tmp_path / "k.hex.sn")
    starts: list[int] = []
    lock = threading.Lock()

    def sender() -> None:
        for _ in range(50):
            s = SequenceCounter(path, block=8).reserve()
            with lock:
                starts.append(s)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert len(starts) == 200 and all(b - a >= 8 for a, b in itertools.pairwise(starts))
    # a corrupt counter file is a clear error, never a silent restart from zero
    Path(path).write_text("garbage")
    with pytest.raises(OSError, match="corrupt"):
        SequenceCounter(path).reserve()


def test_keyed_twin_needs_flash_and_a_restart_does_not_reopen_replay(tmp_path: Path) -> None:
    with pytest.raises(TwinError, match="flash"):
        TwinServer(port=0, key=KEY)
    flash = str(tmp_path / "flash")
    ground = sdls.SecurityAssociation(1, KEY)
    captured = cltu.encode(sdls.secure_frame(ground, 0x2A, 0, 0, PusTc(17, 1, apid=0x10).pack(), bypass=True))
    first = TwinServer(port=0, key=KEY, flash_dir=flash)
    first.twin.link.ground_write(captured)
    first.twin.run_ms(300)
    assert first.app.dispatcher.ok == 1
    first.close()
    second = TwinServer(port=0, key=KEY, flash_dir=flash)  # the same spacecraft, restarted
    try:
        second.twin.link.ground_write(captured)  # an eavesdropper replays what it recorded
        second.twin.run_ms(300)
        assert second.app.dispatcher.ok == 0 and second.app.comms.security.replayed == 1
    finally:
        second.close()


def test_a_second_twin_on_the_same_flash_is_refused_before_it_boots(tmp_path: Path) -> None:
    flash = str(tmp_path / "flash")
    first = TwinServer(port=0, flash_dir=flash)
    try:
        boots = first.app.boot.count
        with pytest.raises(TwinError, match="in use by another twin"):
            TwinServer(port=0, flash_dir=flash)
        first.twin.run_ms(1000)
        assert first.app.boot.count == boots  # nothing booted on its flash behind its back
        from flight.audit import GENESIS, verify

        audit = first.app.audit
        ok, _n, why = verify(audit.records(), head=audit.head[:4], count=audit.seq, anchor=GENESIS)
        assert ok, why  # and its audit chain is whole
    finally:
        first.close()
    TwinServer(port=0, flash_dir=flash).close()  # free again once the first one stopped


def test_a_client_that_never_reads_is_dropped_and_the_others_are_served(tmp_path: Path) -> None:
    twin = Served(speed=200.0, client_queue_max=64 * 1024)
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", twin.server.port))
    try:
        _wait(lambda: twin.server.dropped_clients == 1, 60, "the stuck client to be dropped")
        t = twin.server.twin.t
        r = CliRunner().invoke(cli.main, ["send", "ping", "--link", twin.url])
        assert r.exit_code == 0, r.output
        _wait(lambda: twin.server.twin.t > t + 10, 30, "the flight loop to go on")
    finally:
        stuck.close()
        twin.close()


class ReportEater:
    """127.0.0.1 proxy that passes the uplink and every downlink frame except those carrying PUS-1
    reports: COP-1 sees its CLCWs (the command is acknowledged), the verification never arrives."""

    def __init__(self, target_port: int, interleave: int = 5) -> None:
        self.target = target_port
        self.interleave = interleave
        self.eaten = 0
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.stop = threading.Event()
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
        import select

        dec = sync.CaduDecoder(223 * self.interleave, self.interleave)
        ext = tm_extractor.PacketExtractor()
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
                    upstream.sendall(data)
                    continue
                for raw in dec.feed(data):
                    try:
                        frame = tmframe.unpack(raw)
                    except errors.ProtocolError:
                        continue
                    services = [PusTm.unpack(p, timestamp_len=6).service for p in ext.feed(frame)]
                    if 1 in services:
                        self.eaten += 1
                        continue
                    try:
                        client.sendall(sync.build_cadu(raw, self.interleave))
                    except OSError:
                        return

    def close(self) -> None:
        self.stop.set()
        self.srv.close()


def test_a_delivered_command_whose_reports_are_lost_says_do_not_resend(tmp_path: Path) -> None:
    twin = Served(speed=50.0)
    eater = ReportEater(twin.server.port)
    try:
        before = twin.server.app.dispatcher.ok
        r = CliRunner().invoke(
            cli.main,
            [
                "send",
                "param_set",
                "param_id=11",
                "value=120",
                "--link",
                "tcp://127.0.0.1:%d" % eater.port,
                "--timeout",
                "4",
            ],
        )
        assert r.exit_code == 5, r.output
        assert "do NOT resend" in r.output and "no verification report" not in r.output
        assert twin.server.app.dispatcher.ok > before and eater.eaten > 0  # it did run onboard
        assert twin.server.app.params["comms.beacon_s"] == 120
    finally:
        eater.close()
        twin.close()


def test_wrong_key_says_authentication_not_silence(tmp_path: Path) -> None:
    key_file = tmp_path / "wrong.hex"
    key_file.write_text("ff" * 32)
    twin = Served(speed=50.0, key=KEY, flash_dir=str(tmp_path / "flash"))
    try:
        r = CliRunner().invoke(
            cli.main, ["send", "ping", "--link", twin.url, "--key-file", str(key_file), "--timeout", "2"]
        )
        assert r.exit_code == 4 and "authentication" in r.output and "MAC" in r.output, r.output
    finally:
        twin.close()


def test_struct_layout_of_auth_event_is_what_send_decodes() -> None:
    from ground.pus.events import decode_event as decode

    assert decode(struct.pack(">HB", 6, 1)) == ("AUTH_REJECT", {"check": 1})
