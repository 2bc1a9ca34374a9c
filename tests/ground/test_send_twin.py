"""`cubesat send` against `cubesat twin` over TCP and over a pty: verification, failures, refusals."""

from __future__ import annotations

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
    assert "accepted, completed" in r.output
    r = CliRunner().invoke(cli.main, ["send", "ping", "--link", twin_url])  # a second ground session
    assert r.exit_code == 0, r.output


def test_failure_code_is_reported(twin_url: str) -> None:
    r = CliRunner().invoke(cli.main, ["send", "hk_enable", "sid=1", "--link", twin_url])
    assert r.exit_code == 3, r.output
    assert "failure code 1: not implemented" in r.output


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
