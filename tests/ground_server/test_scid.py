"""`--scid` on `cubesat twin`, `send` and `watch`: one default (ground.DEFAULT_SCID); frames of
another spacecraft are ignored and counted by the ground (standalone and server); a twin flying
as SCID 7 answers only telecommands for SCID 7."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from server_harness import make_users, until

from flight.assembly import assemble
from ground import DEFAULT_SCID, cli
from ground.server.config import parse_config
from ground.server.server import GroundServer
from ground.twin import TwinServer


@pytest.fixture(scope="module")
def twin7() -> Iterator[TwinServer]:
    twin = TwinServer(port=0, speed=50.0, scid=7)
    th = threading.Thread(target=twin.serve, daemon=True)
    th.start()
    try:
        yield twin
    finally:
        twin.stop()
        th.join(5)
        twin.close()


def _run(args: list[str], env: dict | None = None) -> tuple[int, str]:
    r = CliRunner().invoke(cli.main, args, env=env or {})
    return r.exit_code, r.output


def test_one_default_scid_and_the_twin_option(monkeypatch: pytest.MonkeyPatch) -> None:
    assert inspect.signature(assemble).parameters["scid"].default == DEFAULT_SCID  # FlightApp's
    seen: dict = {}

    class FakeTwin:
        pty_path, port = None, 1

        def __init__(self, **kw: object) -> None:
            seen.update(kw)

        def serve(self, seconds: float | None) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr("ground.twin.TwinServer", FakeTwin)
    code, out = _run(["twin", "--insecure", "--scid", "7"])
    assert code == 0 and seen["scid"] == 7 and "SCID 7" in out, out
    code, out = _run(["twin", "--insecure"])
    assert code == 0 and seen["scid"] == DEFAULT_SCID
    code, out = _run(["twin", "--insecure", "--scid", "1024"])
    assert code == 2 and "--scid" in out and "Traceback" not in out


def test_standalone_send_and_watch_speak_to_their_scid_only(twin7: TwinServer) -> None:
    link = "tcp://127.0.0.1:%d" % twin7.port
    code, out = _run(["send", "ping", "--link", link, "--scid", "7"])
    assert code == 0 and "ping: accepted, started, completed" in out, out
    comms = twin7.app.comms
    foreign, executed = comms.foreign, twin7.app.dispatcher.ok
    # the default SCID (42): the twin ignores the command, the ground ignores the twin's frames
    code, out = _run(["send", "ping", "--link", link, "--timeout", "0.5"])
    assert code == 4, out
    assert "TM frame(s) of SCID 7 ignored: this command is for SCID %d (--scid)" % DEFAULT_SCID in out, out
    assert comms.foreign > foreign and twin7.app.dispatcher.ok == executed
    code, out = _run(["watch", "--link", link, "--seconds", "0.4"])
    assert code == 1 and "no telemetry" in out and "frames of SCID 7 ignored: check --scid" in out, out


def test_the_ground_server_counts_and_ignores_other_spacecraft(twin7: TwinServer, tmp_path: Path) -> None:
    users, tokens = make_users()
    link = {"type": "tcp", "address": "127.0.0.1:%d" % twin7.port}
    data = {
        "server": {"port": 0, "archive": "g.sqlite", "log_file": "g.log"},
        "spacecraft": [
            {"name": "sat7", "scid": 7, "link": link, "insecure": True},
            {"name": "sat42", "scid": 42, "link": link, "insecure": True},  # the same twin: not its frames
        ],
        "users": users,
    }
    gs = GroundServer(parse_config(data, tmp_path))
    url = gs.start()
    try:
        sat7, sat42 = gs.links["sat7"], gs.links["sat42"]
        until(lambda: sat42.stats()["foreign_frames"] > 0 and sat7.packets > 0, 20, "frames on both links")
        assert sat42.packets == 0 and sat42.stats()["foreign_scids"] == [7]
        assert sat7.stats()["foreign_frames"] == 0
        env = {"CUBESAT_SERVER": url, "CUBESAT_TOKEN": tokens["operator"]}
        code, out = _run(["send", "ping", "--scid", "7"], env)
        assert code == 0 and "completed" in out and "reply TM(17,2): pong" in out, out
        code, out = _run(["send", "ping", "--scid", "9"], env)
        assert code == 2 and "no spacecraft with SCID 9" in out and "sat7 (SCID 7)" in out, out
        code, out = _run(["send", "ping", "--scid", "7", "--spacecraft", "sat42"], env)
        assert code == 2 and "disagree" in out, out
        code, out = _run(["watch", "--scid", "7", "--seconds", "0.3"], env)
        assert code == 0 and "TM(3,25)" in out, out
    finally:
        gs.stop()
    assert "frames of another spacecraft on this link" in (tmp_path / "g.log").read_text()
