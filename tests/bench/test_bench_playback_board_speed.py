"""PUS-15 playback at the RP2040's speed (./dev.sh bench -k playback_board_speed): the twin flies
with `board_speed=` the RP2040 factor calibrated for CPython against the unix port
(board_tools.board_speed.twin_speed, as the twin row of test_board_speed_bench.py), stores an hour of
housekeeping out of contact, then plays it back at the highest commandable rate while realtime
telemetry goes on (as test_bench_playback.py does at the host's speed).

It records what the playback costs the executive at the board's speed: OVERRUNs per rate group
and on the downlink, the worst tick and slow ticks in board ms, and the board time of the
`playback` task (control group, 1 s), also in .bench/playback_board_speed.json. A benchmark:
nothing asserts a time; the test checks only that every stored packet came down and no task
failed (docs/board-speed.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from board_tools.board_speed import twin_speed
from flight.dictionary import COMMANDS, PLAYBACK_DEST
from ground.downlink import Downlink
from ground.flight_twin import FlightTwin, default_environment
from ground.pus.events import decode_event as decode
from hal.clock import ticks_diff

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".bench" / "playback_board_speed.json"
BOARD = "rp2040"
RATE = COMMANDS["store_dump"][3][3][3]  # the highest rate store_dump takes (packets per second)
# an hour of housekeeping stored out of contact: 36,000 ticks, as test_bench_playback.py (the flight
# counts its housekeeping periods in ticks; a slow tick moves the simulated world further)
STORE_TICKS = 36_000
TASK = "playback"


def _waited_us() -> int | None:
    """Microseconds this process has waited to run (Linux), or None (as board_speed_flight.py)."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) // 1000
    except (OSError, ValueError, IndexError):
        return None


@pytest.mark.benchmark(group="playback at the RP2040 factor: an hour of housekeeping on the twin")
def test_playback_at_rp2040_board_speed(benchmark, tmp_path: Path) -> None:
    cal = twin_speed(BOARD)
    factor = cal["factor"]
    assert isinstance(factor, float)

    def play() -> dict:
        twin = FlightTwin(tmp_path / "flash", default_environment(tumble_dps=0.5), board_speed=factor)
        cpu = twin.cpu_us
        worst = {"us": 0}  # the worst tick: the flight code of one tick (app.step), board us
        runs: list[tuple[int, int]] = []  # the playback task while playing: (board us, host us waited)
        # a tick the host preempts for 20 ms is 5 board seconds, which bites the twin's watchdog:
        # the application is built again (flash kept), and is instrumented again here
        gone = {"app": None, "errors": 0, "overruns": dict.fromkeys(("fast", "control", "slow"), 0)}

        def instrument() -> None:
            old = gone["app"]
            if old is not None:
                gone["errors"] += old.executive.errors()
                for g in old.executive.groups:
                    gone["overruns"][g.name] = gone["overruns"].get(g.name, 0) + g.overruns
            app = gone["app"] = twin.app
            step = app.step

            def timed_step() -> None:
                t0 = cpu()
                step()
                worst["us"] = max(worst["us"], ticks_diff(cpu(), t0))

            app.step = timed_step  # type: ignore[method-assign]
            # the playback task's own board time per run, and how long the host kept the process
            # waiting meanwhile (a 4 ms time slice given to another process is a board second)
            task = next(t for t in app.executive.tasks if t.name == TASK)
            fn = task.fn

            def timed_task() -> None:
                if app.stores.playing is None:
                    fn()
                    return
                w0 = _waited_us()
                t0 = cpu()
                try:
                    fn()
                finally:
                    used = ticks_diff(cpu(), t0)
                    w1 = _waited_us()
                    runs.append((used, w1 - w0 if w0 is not None and w1 is not None else 0))

            task.fn = timed_task

        def overruns() -> dict[str, int]:
            now = {g.name: g.overruns for g in twin.app.executive.groups}
            return {k: v + now.get(k, 0) for k, v in gone["overruns"].items()}

        def fly() -> None:
            twin.step()
            if twin.app is not gone["app"]:
                instrument()

        instrument()
        t_start, w_start = time.monotonic(), _waited_us()
        for ticks in range(1, STORE_TICKS + 1):  # out of contact: stored, the downlink lost
            fly()
            if ticks % 100 == 0:
                twin.link.ground_read()
        w_stored = _waited_us()
        stored_phase = {
            "simulated_s": round(twin.t, 1),
            "ticks": ticks,
            "slow_ticks": twin.slow_ticks,
            "worst_tick_board_ms": worst["us"] / 1000,
            "overruns": overruns(),
            "resets": twin.boots - 1,  # watchdog bites: the host preempting a tick (see above)
            "host_waited_ms": None if w_stored is None or w_start is None else (w_stored - w_start) // 1000,
        }
        before, slow_before, boots = overruns(), twin.slow_ticks, twin.boots
        worst["us"] = 0
        t0_sim = twin.t
        app = twin.app
        control = next(g for g in app.executive.groups if any(t.name == TASK for t in g.tasks))

        stores = app.stores
        hk = stores.stores[1]
        stored = hk.packets()
        stores.rate = RATE
        stores.playing = hk
        hk.start_dump(0, 0xFFFFFFFF, True)  # what store_dump does once accepted
        dl = Downlink(app.comms.scid, 5)
        frames = played = played_bytes = ticks = overrun_events = 0
        control_worst = 0
        data_field = None
        tail = 0  # ticks after the dump ended: its last packets still wait in the TM queue
        while tail < 20 and ticks < 100_000 and twin.boots == boots:
            tail = tail + 1 if stores.playing is None and not app.tm_queue else 0
            runs_before = len(runs)
            fly()
            ticks += 1
            if len(runs) != runs_before:
                control_worst = max(control_worst, control.last_us)
            for frame, tm in dl.feed(twin.link.ground_read()):
                if tm is None:
                    frames += 1
                    data_field = len(frame.data)
                elif tm.dest_id == PLAYBACK_DEST + 1:
                    played += 1
                    played_bytes += len(tm.pack())
                elif tm.service == 5 and decode(tm.source_data)[0] == "OVERRUN":
                    overrun_events += 1
        seconds = twin.t - t0_sim
        period_us = control.period_ms * 1000
        board_us = [u for u, _ in runs]
        # a run over the group's period whose excess the host's wait (scaled) covers: the host's
        preempted = sum(1 for u, w in runs if u > period_us and u - w * factor <= period_us)
        w_end = _waited_us()
        return {
            "board": BOARD,
            "factor": round(factor, 1),
            "calibration": cal,
            "rate_per_s": RATE,
            "stored": stored,
            "played": played,
            "playback_ticks": ticks,
            "playback_s": round(seconds, 1),  # simulated: slow ticks move the world by their length
            "playback_s_at_100ms_ticks": ticks / 10,
            "share": round(played_bytes / (frames * data_field), 3),
            "capacity_Bps": round(frames * data_field / seconds, 1),
            "overruns": {k: v - before[k] for k, v in overruns().items()},
            "overrun_events_downlinked": overrun_events,
            "worst_tick_board_ms": worst["us"] / 1000,
            "slow_ticks": twin.slow_ticks - slow_before,
            "control_group_worst_board_ms": control_worst / 1000,
            "playback_task": {
                "group": control.name,
                "period_ms": control.period_ms,
                "runs": len(board_us),
                "max_board_ms": max(board_us, default=0) / 1000,
                "mean_board_ms": round(sum(board_us) / max(1, len(board_us)) / 1000, 1),
                "total_board_s": round(sum(board_us) / 1e6, 2),
                "runs_over_period": sum(1 for u in board_us if u > period_us),
                "runs_over_period_host_preempted": preempted,
            },
            "storing": stored_phase,
            "task_errors": gone["errors"] + twin.app.executive.errors(),
            "resets_while_playing": twin.boots - boots,
            "host_waited_ms": None if w_end is None or w_stored is None else (w_end - w_stored) // 1000,
            "wall_s": round(time.monotonic() - t_start, 1),
        }

    r = benchmark.pedantic(play, rounds=1, iterations=1)
    r["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(r, indent=1) + "\n")  # a failed run's figures too
    assert r["played"] >= r["stored"] > 300, r  # every stored packet came down (and what came meanwhile)
    assert r["task_errors"] == 0 and r["resets_while_playing"] == 0, r
    benchmark.extra_info.update({"impl": "ours", **{k: v for k, v in r.items() if k != "calibration"}})
    p = r["playback_task"]
    print(
        "\nplayback at %s x%.0f: %d of %d packets in %.0f s at %d/s, %.0f%% of %.0f B/s; overruns %s"
        " (%d OVERRUN events downlinked); worst tick %.0f board ms, %d slow ticks; %s task: %d runs,"
        " max %.0f mean %.0f board ms, %d over its %d ms period (%d the host's)"
        % (
            BOARD,
            r["factor"],
            r["played"],
            r["stored"],
            r["playback_s"],
            RATE,
            100 * r["share"],
            r["capacity_Bps"],
            r["overruns"],
            r["overrun_events_downlinked"],
            r["worst_tick_board_ms"],
            r["slow_ticks"],
            TASK,
            p["runs"],
            p["max_board_ms"],
            p["mean_board_ms"],
            p["runs_over_period"],
            p["period_ms"],
            p["runs_over_period_host_preempted"],
        )
    )
