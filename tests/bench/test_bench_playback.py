"""PUS-15 playback throughput as a share of the link's capacity: an hour of housekeeping stored out
of contact, then played back at the highest commandable rate while realtime telemetry goes on.
The capacity is the TM frames' data fields the flight sent meanwhile (it sends a CADU whenever it
has packets, at most one every other 100 ms tick); the share is the played-back packets' bytes
over that, and what realtime and idle fill took is the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from flight.dictionary import COMMANDS, PLAYBACK_DEST
from ground.downlink import Downlink
from ground.flight_twin import FlightTwin, default_environment

RATE = COMMANDS["store_dump"][3][3][3]  # the highest rate store_dump takes (packets per second)


@pytest.mark.benchmark(group="playback: share of the downlink a PUS-15 dump fills")
def test_playback_share_of_link_capacity(benchmark, tmp_path: Path) -> None:
    runs = {"n": 0}

    def play() -> dict:
        runs["n"] += 1
        twin = FlightTwin(tmp_path / ("f%d" % runs["n"]), default_environment(tumble_dps=0.5))
        for _ in range(36):  # an hour out of contact: stored, the downlink lost
            twin.run_ms(100_000)
            twin.link.ground_read()
        stores = twin.app.stores
        hk = stores.stores[1]
        stored = hk.packets()
        stores.rate = RATE
        stores.playing = hk
        hk.start_dump(0, 0xFFFFFFFF, True)  # what store_dump does once accepted
        dl = Downlink(twin.app.comms.scid, 5)
        frames = played = played_bytes = ticks = 0
        data_field = None
        tail = 0  # ticks after the dump ended: its last packets still wait in the TM queue
        while tail < 20 and ticks < 100_000:
            tail = tail + 1 if stores.playing is None and not twin.app.tm_queue else 0
            twin.step()
            ticks += 1
            for frame, tm in dl.feed(twin.link.ground_read()):
                if tm is None:
                    frames += 1
                    data_field = len(frame.data)
                elif tm.dest_id == PLAYBACK_DEST + 1:
                    played += 1
                    played_bytes += len(tm.pack())
        return {
            "stored": stored,
            "played": played,
            "seconds": ticks / 10,
            "share": played_bytes / (frames * data_field),
            "capacity_Bps": frames * data_field / (ticks / 10),
        }

    r = benchmark.pedantic(play, rounds=1, iterations=1)
    assert r["played"] >= r["stored"] > 300  # every stored packet came down (and what came meanwhile)
    benchmark.extra_info.update({"impl": "ours", **r})
    print(
        "playback: %d packets in %.0f s at %d/s, %.0f%% of the %.0f B/s the flight sent"
        % (r["played"], r["seconds"], RATE, 100 * r["share"], r["capacity_Bps"])
    )
