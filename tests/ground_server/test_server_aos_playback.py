"""Store and forward through the ground server: housekeeping made while the station heard nothing
(the downlink lost, as out of contact) is played back at the next AOS, and the archive ends with
every core sample; a second outage in the middle of that playback costs nothing either."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from server_harness import Ground, running_ground, until

PERIOD = 10.0  # the core housekeeping set's period (flight/dictionary.py HK_SETS[1])


@pytest.fixture(scope="module")
def ground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ground]:
    playback = {"rate": 50, "silence_s": 0.5, "horizon_s": 7200}
    with running_ground(tmp_path_factory.mktemp("aos"), craft_extra={"playback": playback}) as g:
        yield g


def _core_times(g: Ground) -> np.ndarray:
    link = g.server.links["sat1"]
    times, _ = g.server.store.samples(link.scid, "obt_s", 0, 1e12)
    return np.asarray(sorted(times))


def _outage(g: Ground, sim_s: float) -> None:
    """The downlink goes nowhere for sim_s seconds of mission time (the station out of view)."""
    twin = g.twin
    send = twin._send
    t0 = twin.app.obt()
    twin._send = lambda data: None
    try:
        until(lambda: twin.app.obt() - t0 >= sim_s, 60, "the outage")
    finally:
        twin._send = send


def _largest_gap(times: np.ndarray, after: float) -> float:
    t = times[times >= after]
    return max((b - a for a, b in itertools.pairwise(t)), default=0.0)


def test_housekeeping_missed_out_of_contact_is_in_the_archive_after_the_next_aos(ground: Ground) -> None:
    link = ground.server.links["sat1"]
    until(lambda: len(_core_times(ground)) >= 3, 20, "core housekeeping")
    start = float(_core_times(ground)[0])
    _outage(ground, 300)  # five minutes: 30 core samples the station never heard
    planner = link.planner
    until(lambda: planner.aos >= 2 and planner.dumps >= 1, 60, "the AOS and its playback")
    assert planner.last_gaps and planner.last_gaps[0][1] - planner.last_gaps[0][0] >= 250
    until(lambda: not planner.playing and not planner.queue, 60, "the playback to finish")
    until(lambda: _largest_gap(_core_times(ground), start) <= 1.5 * PERIOD, 60, "a complete archive")
    assert link.playback["new"] >= 25  # those 30 samples (and the events) came from the store


def test_a_pass_that_ends_in_the_middle_of_a_playback_is_completed_at_the_next(ground: Ground) -> None:
    link = ground.server.links["sat1"]
    planner = link.planner
    start = float(_core_times(ground)[-1])
    _outage(ground, 600)
    until(lambda: planner.playing, 60, "a playback under way")
    aos = planner.aos
    _outage(ground, 120)  # LOS while it runs: the rest of it goes nowhere
    until(lambda: planner.aos > aos, 60, "the next AOS")
    until(lambda: not planner.playing and not planner.queue, 60, "its playback to finish")
    until(lambda: _largest_gap(_core_times(ground), start) <= 1.5 * PERIOD, 60, "a complete archive")
    assert link.stats()["planner"]["aos"] == planner.aos
