"""The scripting API (send and wait for a stage, reply, wait_for, events) and what the archive
keeps: every packet raw and decoded, events, commands with their user and timed stages."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
from server_harness import Ground, start_ground, until

from ground.archive import Archive
from ground.server.errors import WaitTimeoutError


def test_send_reply_wait_for_and_events(ground: Ground) -> None:
    gs = ground.client("operator")
    t0 = time.time()
    r = gs.send("param_set", {"param_id": 11, "value": 45})
    assert r.ok and r.reply["params"][0]["value"] == 45.0
    r = gs.send("param_get", param_id="comms.beacon_s")  # by name, as bench plans write it
    assert r.ok and r.stages == ["queued", "accepted", "started", "completed"]
    assert gs.reply() == r.reply
    assert r.reply["type"] == "TM(20,2)" and r.reply["params"] == [
        {"id": 11, "name": "comms.beacon_s", "value": 45.0}
    ]
    times = [s["t"] for s in r.data["stages"]]
    assert times == sorted(times) and t0 <= times[0] and times[-1] - times[0] < 5
    assert gs.send("param_set", param_id=11, value=60).ok  # back to the default
    r = gs.send("hk_oneshot", sid=3)
    assert r.ok and r.reply["set"] == "health" and r.reply["values"]["cmd_ok"] >= 1
    r = gs.send("mode_set", mode="NOMINAL", wait="done")  # refused onboard: the reason comes down
    assert not r.ok and r.status == "failed" and r.failure["name"] == "WRONG_MODE"
    assert "SAFE -> NOMINAL" in r.failure["detail"] and "WRONG_MODE" in r.describe()
    # a parameter condition, with a deadline
    assert gs.wait_for("batt_v", lambda v: 5.0 < v < 9.0, timeout=10) > 5.0
    with pytest.raises(WaitTimeoutError, match="batt_v"):
        gs.wait_for("batt_v", lambda v: v > 100, timeout=0.5)
    events = gs.events(since=t0)
    changed = [e for e in events if e["name"] == "PARAM_CHANGED"]
    assert changed and changed[-1]["args"]["param_id"] == 11 and "comms.beacon_s" in changed[-1]["text"]
    assert all(e["t_ground"] >= t0 for e in events)
    assert gs.events(since=time.time() + 60) == []
    packets = gs.telemetry(since=t0, service=20)
    assert [p["data"]["params"][0]["value"] for p in packets] == [45.0, 45.0, 60.0]
    assert all(p["raw"] for p in packets)


def test_archive_keeps_packets_events_and_command_history(ground: Ground) -> None:
    ground.client("admin").send("ping")
    store = ground.server.store
    rows = store.commands(None, 0, 10000)
    ping = [c for c in rows if c["name"] == "ping" and c["user"] == "admin"][-1]
    assert ping["status"] == "completed" and ping["role"] == "admin" and ping["reply_packet"]
    assert [s["stage"] for s in ping["stages"]] == ["queued", "accepted", "started", "completed"]
    assert store.packet(ping["reply_packet"])["data"]["type"] == "TM(17,2)"
    # the same file serves `cubesat archive`: housekeeping went into the parameter segments
    db = sqlite3.connect("file:%s?mode=ro" % ground.archive, uri=True)
    try:
        n = db.execute("SELECT COUNT(*) FROM tm_packets").fetchone()[0]
        raw, decoded = db.execute("SELECT raw, decoded FROM tm_packets WHERE service=3 LIMIT 1").fetchone()
        assert n > 5 and len(raw) > 20 and "values" in json.loads(decoded)
    finally:
        db.close()
    arc = Archive(ground.archive, readonly=True)
    try:
        assert len(arc.samples(42, "batt_v", 0, 1e9)[0]) >= 1
    finally:
        arc.close()


def test_keyed_tcp_link_and_a_restart_keep_commanding(tmp_path) -> None:
    """SDLS-authenticated uplink over TCP; a second server run on the same key file goes on."""
    key = bytes(range(32))
    for _run in range(2):
        # the second run: a fresh twin on the same flash (its anti-replay window), the same key file
        g, stop = start_ground(tmp_path, use_pty=False, key=key)
        try:
            r = g.client().send("ping", timeout=15)
            assert r.ok, r.describe()
            sec = g.twin.app.comms.security
            assert sec.bad_mac == 0 and sec.replayed == 0
        finally:
            stop()
        assert (tmp_path / "ops.hex.sn").read_text().strip().isdigit()
        lines = [json.loads(x) for x in (tmp_path / "ground.log").read_text().splitlines()]
        assert any(x["msg"] == "command queued" and x["user"] == "operator" for x in lines)


def test_commanding_goes_on_across_a_spacecraft_reset(tmp_path) -> None:
    """The board reboots (FARM back at V(R) = 0): the server's Terminal resynchronises COP-1."""
    g, stop = start_ground(tmp_path)
    try:
        gs = g.client()
        assert gs.send("ping", timeout=15).ok
        t0 = time.time()
        g.twin.request_reset(1)  # a watchdog reset
        boot = until(lambda: [e for e in gs.events(since=t0) if e["name"] == "BOOT"], 15, "the BOOT event")
        assert "reset_cause=watchdog" in boot[0]["text"]
        r = gs.send("ping", timeout=15)
        assert r.ok, r.describe()
        assert not g.server.links["sat1"].stats()["cop1"]["suspended"]
    finally:
        stop()
