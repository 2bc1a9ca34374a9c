"""Bad input to the API gets a clear 4xx JSON error and leaves the server (and its link) running."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from server_harness import Ground

from ground.server.live import LiveHub


def test_bad_requests_get_clear_errors_and_the_server_goes_on(ground: Ground) -> None:
    url = ground.url + "/api/v1/spacecraft/sat1/commands"
    auth = {"Authorization": "Bearer " + ground.tokens["operator"]}
    before = ground.executed()

    def post(content: bytes | str, status: int, error: str, words: str) -> None:
        r = httpx.post(url, content=content, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == status, r.text
        body = r.json()
        assert body["error"] == error and words in body["message"], body

    post(b"{not json", 400, "bad_request", "not valid JSON")
    post(b"\xff\xfe", 400, "bad_request", "not valid JSON")
    post(b"[1, 2]", 400, "bad_request", "JSON object")
    post(b'{"args": {}}', 400, "bad_request", "command")
    post(b'{"command": "ping", "args": [1]}', 400, "bad_request", "args")
    post(b'{"command": "ping", "args": {"x": {"y": 1}}}', 400, "bad_request", "args")
    post(b'{"command": "ping", "confirm": "yes"}', 400, "bad_request", "confirm")
    post(b'{"command": "ping", "wait": "forever"}', 400, "bad_request", "wait")
    post(b'{"command": "ping", "timeout": 1e9}', 400, "bad_request", "timeout")
    post(b'{"command": "self_destruct"}', 422, "command_refused", "unknown command 'self_destruct'")
    post(b'{"command": "param_get", "args": {"param_id": 70000}}', 422, "command_refused", "out of range")
    post(
        b'{"command": "param_get", "args": {"param_id": "no.such"}}',
        422,
        "command_refused",
        "unknown parameter",
    )
    post(b'{"command": "param_get", "args": {}}', 422, "command_refused", "missing argument")
    post(b'{"command": "ping", "args": {"extra": 1}}', 422, "command_refused", "unexpected argument")
    post(b'{"command": "hk_oneshot", "args": {"sid": "three"}}', 422, "command_refused", "must be a number")
    post(b'{"command": "ping", "pad": "' + b"x" * 20000 + b'"}', 413, "too_large", "over 16384")

    def chunks():  # no Content-Length: the limit holds while the body streams in
        for _ in range(100):
            yield b" " * 1000

    r = httpx.post(url, content=chunks(), headers=auth)
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = httpx.post(ground.url + "/api/v1/spacecraft/nosuch/commands", json={"command": "ping"}, headers=auth)
    assert r.status_code == 404 and "sat1" in r.json()["message"]
    r = httpx.get(ground.url + "/api/v1/telemetry?since=yesterday", headers=auth)
    assert r.status_code == 400 and "since" in r.json()["message"]
    r = httpx.get(ground.url + "/api/v1/commands/999999", headers=auth)
    assert r.status_code == 404
    r = httpx.get(ground.url + "/api/v1/nothing", headers=auth)
    assert r.status_code == 404 and r.json()["error"] == "http"
    r = httpx.delete(url, headers=auth)
    assert r.status_code == 405
    assert ground.executed() == before  # nothing of that reached the spacecraft
    r = ground.client().send("ping")  # the server and its link are fine
    assert r.ok and ground.executed() == before + 1


def test_a_client_that_never_reads_does_not_stall_the_others(ground: Ground) -> None:
    host, port = ground.url.split("//")[1].split(":")
    stalled = socket.create_connection((host, int(port)))
    try:
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        request = "GET /api/v1/live HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n"
        stalled.sendall((request % ground.tokens["viewer"]).encode())
        # half-finished requests too: a header that never ends
        slow = socket.create_connection((host, int(port)))
        slow.sendall(b"POST /api/v1/spacecraft/sat1/commands HTTP/1.1\r\nContent-Length: 100\r\n")
        for _ in range(3):
            r = ground.client().send("ping")
            assert r.ok, r.describe()
        slow.close()
    finally:
        stalled.close()
    assert httpx.get(ground.url + "/api/v1/health").json()["ok"]


def test_live_hub_ends_a_subscriber_that_falls_behind() -> None:
    async def run() -> tuple[list, list, int]:
        hub = LiveHub(maxsize=4)
        slow, fast = hub.subscribe(), hub.subscribe(scid=7)
        got_fast = []
        for i in range(10):
            hub.publish({"kind": "tm", "id": i, "scid": 7})
            await asyncio.sleep(0)  # the loop runs the hand-over
            got_fast.append((await fast.queue.get())["id"])
        got_slow = []
        while not slow.queue.empty():
            got_slow.append(slow.queue.get_nowait())
        hub.unsubscribe(slow)
        hub.unsubscribe(fast)
        return got_fast, got_slow, hub.overflows

    got_fast, got_slow, overflows = asyncio.run(run())
    assert got_fast == list(range(10))  # the reader got everything
    assert [x["id"] for x in got_slow[:-1]] == [0, 1, 2, 3] and got_slow[-1] == {"kind": "overflow"}
    assert overflows == 1


def test_a_missing_link_device_does_not_stop_the_server(tmp_path) -> None:
    """The pty is not there (unplugged radio): the server runs, says the link is down, queues."""
    from server_harness import make_users

    from ground.server.client import GroundClient
    from ground.server.config import parse_config
    from ground.server.errors import WaitTimeoutError
    from ground.server.server import GroundServer

    users, tokens = make_users()
    craft = {
        "name": "sat1",
        "scid": 42,
        "insecure": True,
        "link": {"type": "pty", "address": "/nonexistent/pty"},
    }
    gs = GroundServer(parse_config({"server": {"port": 0, "archive": "a.sqlite"}, "spacecraft": [craft],
                                    "users": users}, tmp_path))  # fmt: skip
    url = gs.start()
    try:
        client = GroundClient(url, tokens["operator"])
        with pytest.raises(WaitTimeoutError, match="no 'accepted'"):
            client.send("ping", wait="accepted", timeout=0.3)
        assert client.last is not None and client.last.stages == ["queued"]
        status = httpx.get(
            url + "/api/v1/spacecraft", headers={"Authorization": "Bearer " + tokens["viewer"]}
        )
        link = status.json()["spacecraft"][0]["stats"]["link"]
        assert link["up"] is False and link["failures"] >= 1
        assert httpx.get(url + "/api/v1/health").json()["ok"]
    finally:
        gs.stop()
