"""Ten twins, one ground process: commands verified per spacecraft, telemetry partitioned by SCID."""

from __future__ import annotations

import threading
import time

from ground.archive import Archive
from ground.station import GroundStation
from ground.twin import TwinServer
from protocols.pus import PusTc


def test_ten_spacecraft_through_one_ground() -> None:
    twins = [TwinServer(port=0, speed=200.0, scid=100 + i) for i in range(10)]
    threads = [threading.Thread(target=t.serve, daemon=True) for t in twins]
    for th in threads:
        th.start()
    arc = Archive()
    gs = GroundStation(arc)
    for t in twins:
        gs.add(t.twin.scid, "tcp://127.0.0.1:%d" % t.port)
    for scid in gs.sessions:
        gs.send(scid, PusTc(17, 1, apid=0x10, seq_count=scid))
    start = time.monotonic()

    def done() -> bool:
        return all(s.verified and s.hk_reports >= 20 for s in gs.sessions.values())

    while time.monotonic() - start < 30.0 and not done():
        gs.poll(int((time.monotonic() - start) * 1000), timeout=0.005)
    print("ten spacecraft verified and 20 reports each after %.1f s" % (time.monotonic() - start))
    for t in twins:
        t.stop()
    for th in threads:
        th.join(5)
    gs.close()
    for t in twins:
        t.close()
    for scid, s in gs.sessions.items():
        assert s.verified == [scid], scid  # its own ping, verified, once
        assert s.downlink.foreign_frames == 0 and s.hk_reports >= 20
        times, soc = arc.samples(scid, "soc", 0, 1e9)
        assert 10 <= len(times) < s.hk_reports and 0 < soc.min() <= soc.max() <= 1  # soc: core set only
    assert not arc.samples(99, "soc", 0, 1e9)[0].size


def test_crossed_link_is_detected() -> None:
    twin = TwinServer(port=0, speed=200.0, scid=7)
    th = threading.Thread(target=twin.serve, kwargs={"seconds": 100.0}, daemon=True)
    th.start()
    arc = Archive()
    gs = GroundStation(arc)
    s = gs.add(8, "tcp://127.0.0.1:%d" % twin.port)  # the operator typed the wrong port
    start = time.monotonic()
    while s.downlink.foreign_frames < 3 and time.monotonic() - start < 30.0:  # a deadline, not a sleep
        gs.poll(int((time.monotonic() - start) * 1000), timeout=0.005)
    twin.stop()
    th.join(5)
    gs.close()
    twin.close()
    assert (
        s.downlink.foreign_frames > 0 and s.downlink.frames == 0 and not arc.samples(8, "soc", 0, 1e9)[0].size
    )
