"""Store and forward on the ground: at each acquisition of signal, dump what the archive lacks.

    playback = { rate = 20, silence_s = 60, horizon_s = 43200 }   # in a [[spacecraft]] table

The planner watches the downlink. After `silence_s` without a frame (or at the first frame of a
session) the next frame is an AOS. At the first realtime core housekeeping packet after it, the
planner reads the archive's core housekeeping times over the last `horizon_s` (what the onboard
store can still hold) and finds the gaps: two consecutive samples further apart than 1.5 periods
of the core set. With `from_s`, the archive should be complete from that onboard time on (the
mission's start), so the time before its first sample is a gap too. For each gap, oldest first,
it commands a playback of the housekeeping store and then of the events store over that range,
one at a time (the board runs one playback: the next is sent when PLAYBACK_DONE comes down). A
playback a pass cut short leaves a smaller gap in the archive, which the next AOS finds again;
the stores' own running playback is aborted first.
A board that resets in the middle of a dump says so at boot (PLAYBACK_DONE status 3): the planner
then plans again at the next core sample, in the same pass.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Protocol

from flight.dictionary import HK_SETS, PACKET_STORES
from ground.pus import EVENT_REPORTING, housekeeping
from ground.server.auth import User
from ground.server.config import PlaybackConfig

log = logging.getLogger("cubesat.ground.playback")

CORE_SID = 1
CORE_PARAM = "obt_s"  # a value of the core set: its sample times are the set's
HK_STORE = next(sid for sid, s in PACKET_STORES.items() if s[1] == 3)
EVENT_STORE = next(sid for sid, s in PACKET_STORES.items() if s[1] == 5)
RESET_CUT = 3  # PLAYBACK_DONE status: a reset ended the playback (flight/packet_store.py)


class _Link(Protocol):
    scid: int
    name: str

    def submit(self, user: User, name: str, args: dict[str, Any], confirm: bool = False) -> Any: ...


class PlaybackPlanner:
    def __init__(self, link: _Link, store: Any, cfg: PlaybackConfig) -> None:
        self.link = link
        self.store = store
        self.cfg = cfg
        self.period = float(HK_SETS[CORE_SID][1])
        self.user = User("playback", "operator")
        self.last_frame: float | None = None
        self.aos_pending = False
        self.queue: list[tuple[str, dict[str, Any]]] = []
        self.playing = False  # a store_dump was sent and its PLAYBACK_DONE has not come down
        self.aos = 0
        self.dumps = 0
        self.resets = 0  # playbacks a reset of the board cut short, planned again
        self.last_gaps: list[tuple[float, float]] = []

    def on_frames(self, now_s: float) -> None:
        """Frames arrived at `now_s` (monotonic)."""
        if self.last_frame is None or now_s - self.last_frame > self.cfg.silence_s:
            self.aos += 1
            self.aos_pending = True
            self.queue.clear()
            self.playing = False  # what ran in the last pass ended or went nowhere
        self.last_frame = now_s

    def on_packet(self, kind: tuple[int, int], decoded: dict[str, Any], t_onboard: float | None) -> None:
        """A realtime packet (not a played-back one)."""
        if (
            kind == housekeeping.REPORT
            and decoded.get("sid") == CORE_SID
            and t_onboard is not None
            and self.aos_pending
        ):
            self.aos_pending = False
            self.last_gaps = self.gaps(t_onboard)
            self._plan(self.last_gaps)
        elif kind[0] == EVENT_REPORTING and decoded.get("event") == "PLAYBACK_DONE":
            self.playing = False
            if decoded.get("args", {}).get("status") == RESET_CUT:
                # the board reset in the middle of a dump: plan again from the archive at the
                # next core sample, as at an AOS (what the cut dump had sent is in the archive)
                self.queue.clear()
                self.aos_pending = True
                self.resets += 1
        self._next()

    def gaps(self, t_now: float) -> list[tuple[float, float]]:
        """(first, last) onboard seconds of each stretch without core housekeeping before t_now."""
        t0 = t_now - self.cfg.horizon_s
        times, _ = self.store.samples(self.link.scid, CORE_PARAM, t0, t_now + 1)
        marks = {float(t_now)}
        if self.cfg.from_s is not None and self.cfg.from_s < t_now:
            # complete from the mission's start: before the first sample the archive holds, too
            marks.add(max(self.cfg.from_s, t0) - 1)
        times = sorted(set(float(t) for t in times) | marks)
        limit = 1.5 * self.period
        return [(a + 1, b - 1) for a, b in itertools.pairwise(times) if b - a > limit]

    def _plan(self, gaps: list[tuple[float, float]]) -> None:
        # a playback still running onboard from the last pass would refuse the first dump
        self.queue = [("store_abort", {"store": HK_STORE}), ("store_abort", {"store": EVENT_STORE})]
        for t0, t1 in gaps:
            for store in (HK_STORE, EVENT_STORE):
                args = {"store": store, "from_s": int(t0), "to_s": int(t1), "rate": self.cfg.rate}
                self.queue.append(("store_dump", args))
        if gaps:
            log.info(
                "AOS %d: %d gap(s) to play back, %.0f s in all"
                % (self.aos, len(gaps), sum(b - a for a, b in gaps)),
                extra={"spacecraft": self.link.name},
            )

    def _next(self) -> None:
        while self.queue and not self.playing:
            name, args = self.queue.pop(0)
            self.link.submit(self.user, name, args)
            if name == "store_dump":
                self.playing = True
                self.dumps += 1

    def status(self) -> dict[str, Any]:
        return {
            "aos": self.aos,
            "dumps": self.dumps,
            "cut_by_reset": self.resets,
            "playing": self.playing,
            "queued": len(self.queue),
            "gaps": [{"from_s": a, "to_s": b, "seconds": b - a + 2} for a, b in self.last_gaps],
        }
