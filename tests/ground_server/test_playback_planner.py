"""The AOS playback planner on its own: what it commands for the archive's gaps, and what a board
reset in the middle of a dump (PLAYBACK_DONE status 3) makes it do: plan again, in the same pass."""

from __future__ import annotations

from typing import Any

from ground.server.config import PlaybackConfig
from ground.server.playback import EVENT_STORE, HK_STORE, PlaybackPlanner


class _Link:
    scid = 7
    name = "sat1"

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def submit(self, user: Any, name: str, args: dict[str, Any], confirm: bool = False) -> None:
        self.sent.append((name, args))


class _Store:
    def __init__(self, times: list[float]) -> None:
        self.times = times

    def samples(self, scid: int, param: str, t0: float, t1: float) -> tuple[list[float], list[float]]:
        t = [x for x in self.times if t0 <= x < t1]
        return t, [0.0] * len(t)


def _core(t: float) -> tuple[tuple[int, int], dict[str, Any], float]:
    return (3, 25), {"sid": 1}, t


def _done(status: int) -> tuple[tuple[int, int], dict[str, Any], None]:
    args = {"store": HK_STORE, "packets": 0, "status": status}
    return (5, 1), {"event": "PLAYBACK_DONE", "args": args}, None


def test_a_reset_in_the_middle_of_a_dump_plans_the_gaps_again_in_the_same_pass() -> None:
    link = _Link()
    # core housekeeping every 10 s, with 1000..2000 missing (out of contact)
    store = _Store([float(t) for t in range(0, 1000, 10)] + [float(t) for t in range(2000, 2100, 10)])
    p = PlaybackPlanner(link, store, PlaybackConfig(rate=20, silence_s=60, horizon_s=43200))
    p.on_frames(0.0)
    p.on_packet(*_core(2100.0))
    dumps = [a for n, a in link.sent if n == "store_dump"]
    assert dumps == [{"store": HK_STORE, "from_s": 991, "to_s": 1999, "rate": 20}]
    assert p.playing and p.queue == [
        ("store_dump", {"store": EVENT_STORE, "from_s": 991, "to_s": 1999, "rate": 20})
    ]
    # the board resets: at boot it reports the cut playback; the events dump is not sent blindly ...
    link.sent.clear()
    p.on_packet(*_done(3))
    assert not p.playing and p.queue == [] and link.sent == [] and p.resets == 1
    # ... the archive is read again at the next core sample (the dump had filled part of the gap)
    store.times += [float(t) for t in range(1000, 1500, 10)]
    p.on_packet(*_core(2110.0))
    assert [a for n, a in link.sent if n == "store_dump"] == [
        {"store": HK_STORE, "from_s": 1491, "to_s": 1999, "rate": 20}
    ]
    assert p.status()["cut_by_reset"] == 1
    # an ordinary end goes on with the queue
    link.sent.clear()
    p.on_packet(*_done(0))
    assert link.sent == [("store_dump", {"store": EVENT_STORE, "from_s": 1491, "to_s": 1999, "rate": 20})]


def test_from_s_makes_the_time_before_the_first_archived_sample_a_gap() -> None:
    # the first pass: the archive holds only what came down in real time, from 5000 s on
    times = [float(t) for t in range(5000, 5100, 10)]
    plain = PlaybackPlanner(_Link(), _Store(times), PlaybackConfig(horizon_s=43200))
    assert plain.gaps(5100.0) == []  # without a start it cannot know anything is missing
    link = _Link()
    p = PlaybackPlanner(link, _Store(times), PlaybackConfig(rate=20, horizon_s=43200, from_s=0.0))
    assert p.gaps(5100.0) == [(0.0, 4999.0)]
    p.on_frames(0.0)
    p.on_packet(*_core(5100.0))
    assert [a for n, a in link.sent if n == "store_dump"] == [
        {"store": HK_STORE, "from_s": 0, "to_s": 4999, "rate": 20}
    ]
    # the start reaches back no further than the store can hold (the horizon)
    late = PlaybackPlanner(_Link(), _Store(times), PlaybackConfig(horizon_s=3000, from_s=0.0))
    assert late.gaps(5100.0) == [(2100.0, 4999.0)]
    # once the archive is complete from the start, there is nothing to fetch
    full = [float(t) for t in range(0, 5100, 10)]
    assert PlaybackPlanner(_Link(), _Store(full), PlaybackConfig(from_s=0.0)).gaps(5100.0) == []
