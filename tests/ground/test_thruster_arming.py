"""`cubesat send thruster_arm --confirm` arms inside the board's window at any twin speed (the
confirm goes up on the same link session as soon as the ARM_PENDING token is down), and a
failure prints the board's reason; reports of an older board (no reason byte) still decode."""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner

from flight.dictionary import FAIL
from ground import cli
from ground.commanding import LinkSession
from ground.dictionary import build_tc, failure_notice
from ground.server.cli_client import packet_line
from ground.server.decode import decode_tm
from ground.twin import TwinServer
from protocols.pus import PusTm


def until(cond: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(0.01)


@pytest.fixture
def twin(request: pytest.FixtureRequest) -> Iterator[TwinServer]:
    server = TwinServer(port=0, speed=request.param)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        until(lambda: server.app.modes.mode == 1, 15, "BOOT -> SAFE")  # the first control tick
        yield server
    finally:
        server.stop()
        thread.join(5)
        server.close()


def _send(url: str, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli.main, ["send", *args, "--link", url])
    return r.exit_code, r.output


@pytest.mark.parametrize("twin", [10.0, 1.0], indirect=True, ids=["speed10", "speed1"])
def test_arm_with_confirm_arms_inside_the_window(twin: TwinServer) -> None:
    url = "tcp://127.0.0.1:%d" % twin.port
    assert _send(url, "mode_set", "mode=DETUMBLE")[0] == 0
    code, out = _send(url, "thruster_arm", "--confirm")
    assert code == 0, out
    assert "thruster_arm: accepted, started, completed" in out and "ARM_PENDING token" in out
    assert "thruster_arm_confirm: accepted, started, completed" in out and "thrusters armed" in out
    assert twin.app.propulsion.armed()


@pytest.mark.parametrize("twin", [10.0], indirect=True, ids=["speed10"])
def test_a_confirm_after_the_window_prints_the_board_s_reason(twin: TwinServer) -> None:
    url = "tcp://127.0.0.1:%d" % twin.port
    assert _send(url, "mode_set", "mode=DETUMBLE")[0] == 0
    with LinkSession(url) as session:  # only the request, as an operator who waits too long
        verdict = session.send(build_tc("thruster_arm", {}, 0x10, 100, "operator", True), 5.0)
    assert verdict.ok, verdict.describe()
    token = [aux["token"] for name, aux in verdict.events if name == "ARM_PENDING"][-1]
    valve = twin.app.propulsion.valves[0]
    until(lambda: valve.state == 0, 15, "the 10 s window to lapse (1 s at 10x)")
    code, out = _send(url, "thruster_arm_confirm", "token=%d" % token, "--confirm")
    assert code == 3 and "INTERLOCK (arm request expired)" in out, out


def _report(subtype: int, data: bytes) -> PusTm:
    return PusTm(1, subtype, struct.pack(">HH", 0x1810, 0xC000 | 7) + data, apid=0x10, timestamp=b"")


def test_failure_reports_decode_with_and_without_the_reason_byte() -> None:
    new = _report(8, struct.pack(">HB", FAIL["INTERLOCK"], 1) + b"thruster: arm request expired")
    old = _report(8, struct.pack(">H", FAIL["INTERLOCK"]) + b"thruster: arm request expired")
    bare = _report(4, struct.pack(">H", FAIL["WRONG_MODE"]))
    f = decode_tm(new)["failure"]
    assert (f["name"], f["reason"], f["reason_name"]) == ("INTERLOCK", 1, "ARM_EXPIRED")
    assert f["reason_text"] == "arm request expired" and f["detail"] == "thruster: arm request expired"
    f = decode_tm(old)["failure"]
    assert f["reason"] is None and f["detail"] == "thruster: arm request expired"
    assert failure_notice(bare.source_data) == (FAIL["WRONG_MODE"], None, "")
    line = packet_line({"t_onboard": 1.0, "data": decode_tm(new)})
    assert "failed 16/7 INTERLOCK (arm request expired): thruster: arm request expired" in line
