"""Played-back packets (PUS-15) in the ground server: merged into the archive where realtime missed
them, dropped as duplicates where realtime carried them, and never taken for news (a command's
stage or reply, the latest value)."""

from __future__ import annotations

import struct
import time

from server_harness import Ground, until

from flight.dictionary import PLAYBACK_DEST
from protocols.crc import crc16
from protocols.pus import PusTm


def test_a_full_dump_of_what_realtime_carried_adds_nothing(ground: Ground) -> None:
    gs = ground.client("operator")
    link = ground.server.links["sat1"]
    until(lambda: link.latest.get("batt_v"), 20, "housekeeping")
    t_end = int(ground.twin.app.obt())
    before = dict(link.playback)
    r = gs.send("store_dump", {"store": 1, "from_s": 0, "to_s": t_end, "rate": 50})
    assert r.ok
    until(lambda: any(e["name"] == "PLAYBACK_DONE" for e in gs.events(since=time.time() - 600)), 60, "done")
    done = [e for e in gs.events(since=time.time() - 600) if e["name"] == "PLAYBACK_DONE"][-1]
    played = done["args"]["packets"]
    assert played > 0 and done["args"]["status"] == 0
    until(lambda: sum(link.playback.values()) - sum(before.values()) >= played, 20, "all played back")
    # some were made before the server listened (new to the archive), the rest realtime carried
    first = dict(link.playback)
    assert first["duplicates"] > before["duplicates"]
    # the same range again: every packet is in the archive now, nothing is added twice
    assert gs.send("store_dump", {"store": 1, "from_s": 0, "to_s": t_end, "rate": 50}).ok
    until(lambda: link.playback["duplicates"] - first["duplicates"] >= played, 30, "the second dump")
    assert link.playback["new"] == first["new"]
    assert link.stats()["playback"] == link.playback


def test_played_back_housekeeping_fills_the_archive_and_stays_history(ground: Ground) -> None:
    link = ground.server.links["sat1"]
    store = ground.server.store
    latest = dict(link.latest)
    # a sample the station never heard (made before the server ran), as the board plays it back:
    # a realtime core housekeeping packet of this flight, made long ago, destination 0x101
    real = next(p for p in store.packets(link.scid, 0, 100000, service=3) if p["data"].get("sid") == 1)
    raw = bytearray(bytes.fromhex(real["raw"]))
    t = 1000 + 10 * sum(link.playback.values())  # a time no earlier run of this test used
    struct.pack_into(">HIH", raw, 11, PLAYBACK_DEST + 1, t, 0)  # destination, CUC time
    c = crc16(bytes(raw[:-2]))
    raw[-2:] = bytes((c >> 8, c & 0xFF))
    raw = bytes(raw)
    tm = PusTm.unpack(raw, timestamp_len=6)
    assert tm.dest_id == PLAYBACK_DEST + 1 and tm.timestamp[:4] == struct.pack(">I", t)
    before = dict(link.playback)
    with link.lock:
        link._packet(raw, tm)
    assert link.playback["new"] == before["new"] + 1
    store.flush()
    decoded = store.packets(link.scid, 0, 100000)[-1]["data"]
    assert decoded["playback"] == 1
    times, values = store.samples(link.scid, "batt_v", t - 1.0, t + 1.0)
    assert list(times) == [float(t)] and values[0] == real["data"]["values"]["batt_v"]
    # the second copy (another dump of the same range) is a duplicate
    with link.lock:
        link._packet(raw, tm)
    assert link.playback["duplicates"] == before["duplicates"] + 1
    assert link.latest == latest  # old data is not the latest value
