"""`cubesat send` against `cubesat twin` over TCP and over a pty: verification, failures, refusals."""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from ground import cli
from ground.twin import TwinServer


@pytest.fixture(params=["tcp", "pty"])
def twin_url(request) -> Iterator[str]:
    server = TwinServer(port=0, use_pty=request.param == "pty", speed=50.0)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server.pty_path if request.param == "pty" else "tcp://127.0.0.1:%d" % server.port
    server.stop()
    thread.join(5)
    server.close()


def test_ping_is_verified(twin_url: str) -> None:
    r = CliRunner().invoke(cli.main, ["send", "ping", "--link", twin_url, "--timeout", "10"])
    assert r.exit_code == 0, r.output
    assert "accepted, started, completed" in r.output
    r = CliRunner().invoke(cli.main, ["send", "ping", "--link", twin_url])  # a second ground session
    assert r.exit_code == 0, r.output


def test_failure_code_is_reported(twin_url: str) -> None:
    r = CliRunner().invoke(cli.main, ["send", "param_get", "param_id=999", "--link", twin_url])
    assert r.exit_code == 3, r.output
    assert "failure code 7: unknown parameter" in r.output
    r = CliRunner().invoke(cli.main, ["send", "mode_set", "mode=NOMINAL", "--link", twin_url])
    assert r.exit_code == 3 and "failure code 4: not allowed in the current mode" in r.output, r.output


def test_hazardous_needs_confirmation_and_role(twin_url: str) -> None:
    r = CliRunner().invoke(cli.main, ["send", "thruster_arm", "--link", twin_url])
    assert r.exit_code == 2 and "--confirm" in r.output
    r = CliRunner().invoke(cli.main, ["send", "ping", "--role", "viewer", "--link", twin_url])
    assert r.exit_code == 2 and "viewer" in r.output
    r = CliRunner().invoke(
        cli.main, ["send", "thruster_fire", "thruster=9", "duration_ms=10", "--confirm", "--link", twin_url]
    )
    assert r.exit_code == 2 and "out of range" in r.output


def test_link_down_and_no_answer() -> None:
    r = CliRunner().invoke(cli.main, ["send", "ping", "--link", "tcp://127.0.0.1:1"])
    assert r.exit_code == 1 and "link" in r.output
    silent = TwinServer(port=0)  # listening, never served: nobody answers
    try:
        r = CliRunner().invoke(
            cli.main, ["send", "ping", "--link", "tcp://127.0.0.1:%d" % silent.port, "--timeout", "1"]
        )
        assert r.exit_code == 4 and "no verification report" in r.output
    finally:
        silent.close()


def test_authenticated_commanding(tmp_path) -> None:
    key = tmp_path / "key.hex"
    key.write_text("00112233445566778899aabbccddeeff" * 2)
    wrong = tmp_path / "wrong.hex"
    wrong.write_text("ff" * 32)
    server = TwinServer(
        port=0, speed=50.0, key=bytes.fromhex(key.read_text()), flash_dir=str(tmp_path / "flash")
    )
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    url = "tcp://127.0.0.1:%d" % server.port
    try:
        r = CliRunner().invoke(cli.main, ["send", "ping", "--link", url, "--key-file", str(key)])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(
            cli.main, ["send", "ping", "--link", url, "--key-file", str(wrong), "--timeout", "1"]
        )
        assert r.exit_code == 4
        r = CliRunner().invoke(cli.main, ["send", "ping", "--link", url, "--timeout", "1"])  # no key at all
        assert r.exit_code == 4
        sec = server.app.comms.security
        assert sec.accepted == 2  # the authenticated Set V(R) and the ping
        assert sec.bad_mac >= 1 and sec.unknown_spi + sec.truncated + sec.bad_mac >= 2
        assert "00112233" not in repr(sec.sas) and "redacted" in repr(sec.sas)
    finally:
        server.stop()
        thread.join(5)
        server.close()


def test_replayed_and_forged_frames_are_rejected_onboard(tmp_path) -> None:
    from ground.flight_twin import FlightTwin
    from ground.pus.events import decode_event as decode
    from protocols import cltu, sdls
    from protocols.crc import crc16
    from protocols.pus import PusTc

    key = bytes(range(32))
    twin = FlightTwin(tmp_path / "flash", key=key)
    app = twin.app
    ground = sdls.SecurityAssociation(1, key)

    def uplink(frame: bytes) -> None:
        twin.link.ground_write(cltu.encode(frame))
        twin.run_ms(300)

    frame = sdls.secure_frame(ground, 0x2A, 0, 0, PusTc(17, 1, apid=0x10).pack())
    uplink(frame)
    assert app.comms.farm.counts["accept"] == 1 and app.dispatcher.ok == 1
    uplink(frame)  # the same frame again: a replay
    sec = app.comms.security
    assert sec.replayed == 1 and app.comms.farm.counts["accept"] == 1 and app.dispatcher.ok == 1
    assert decode(struct.pack(">H", 6) + bytes((2,))) == ("AUTH_REJECT", {"check": 2})
    assert app.events.last == ("AUTH_REJECT", (2,))  # reported as a PUS-5 event: the replay check
    forged = bytearray(sdls.secure_frame(ground, 0x2A, 0, 1, PusTc(17, 1, apid=0x10).pack()))
    forged[12] ^= 1
    body = bytes(forged[:-2])
    c = crc16(body)
    uplink(body + bytes((c >> 8, c & 0xFF)))
    assert sec.bad_mac == 1 and app.comms.farm.counts["accept"] == 1
    assert app.events.last == ("AUTH_REJECT", (1,)) and app.comms.auth_rejects == 2
    # BC frames are authenticated too: a plain Set V(R) or Unlock from anyone is refused
    from protocols import tcframe

    vr = app.comms.farm.vr
    uplink(tcframe.TcFrame(0x2A, 0, tcframe.set_vr(77), bypass=True, control=True).pack())
    uplink(tcframe.TcFrame(0x2A, 0, tcframe.UNLOCK, bypass=True, control=True).pack())
    assert app.comms.farm.vr == vr and app.comms.auth_rejects == 4
    uplink(sdls.secure_frame(ground, 0x2A, 0, 0, tcframe.set_vr(77), control=True))
    assert app.comms.farm.vr == 77  # the key holder can
    # the anti-replay counter survives a reboot: the old frame is still refused afterwards
    twin.power_cycle()
    uplink(frame)
    assert twin.app.comms.security.replayed == 1 and twin.app.dispatcher.ok == 0


def test_time_tagged_command_from_the_cli(twin_url: str) -> None:
    r = CliRunner().invoke(
        cli.main,
        ["send", "schedule_insert", "release_s=900000", "command=hk_oneshot sid=3", "--link", twin_url],
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        cli.main, ["send", "schedule_insert", "release_s=0", "command=ping", "--link", twin_url]
    )
    assert r.exit_code == 3 and "failure code 9: release time already passed" in r.output
