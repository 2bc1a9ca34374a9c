"""Board side of the board-speed run (tests/bench/test_board_speed_bench.py): the flight application,
booted by flight.main.boot on the simulated board, flown tick by tick while a ground Terminal on the
host sends the uplink and reads the downlink. Runs unchanged on MicroPython (the emulated board and
the unix port) and on CPython.

    r = SpeedRun("flash", factor)   # factor: the board's clock = this interpreter's x factor
                                    # (0: the interpreter's own clock, e.g. the emulated board's,
                                    # which already keeps the board's speed)
    r.link.ground_write(cltus); r.run(100); r.link.ground_read()
    r.report()                      # dict: overruns, worst tick, per-task board time

As a script it serves the host over stdin/stdout (the unix port has no emulated REPL):
    micropython board_speed_flight.py FLASH FACTOR [ROOT]     (ROOT: the repository, for imports)
    > U <uplink hex> <ticks>   -> D <downlink hex>   (the uplink arrives halfway through the ticks)
    > R                        -> R <repr(report())>
Nothing here asserts a time: the host records the figures as a benchmark.
"""

import sys

TICK_MS = 100


class SpeedRun:
    def __init__(self, flash, factor=0):
        import hal.clock
        from hal.sim.buses.clock import ScaledCpuClock

        raw = hal.clock.ticks_us
        if factor:
            # the board's clock: this interpreter's, `factor` times slower (flight.main.boot gives the
            # executive hal.clock.ticks_us, the board's microsecond clock)
            hal.clock.ticks_us = ScaledCpuClock(factor).ticks_us
        import flight.main
        from hal.boards import open_system

        # the simulated world with its in-memory link, which the host drives (not the emulator's UART)
        self.system, self.app = flight.main.boot("sim-twin", flash, system=open_system("sim-twin"))
        self.link = self.system.link
        ex = self.app.executive
        self.ex = ex
        self.cpu = ex.cpu_us
        self.fast = ex.group("fast")
        self.ticks = 0
        self.worst_tick_us = 0
        self.slow_ticks = 0  # whole ticks longer than the tick period: the board would slip
        self.last = {}  # task -> board us of its last run
        self.blame = {}  # task -> board us it took in the fast group's overrun ticks
        self.blame_n = {}  # task -> overrun ticks in which it was the fast group's longest task
        # The board's clock is this interpreter's wall clock scaled, so a host that preempts this
        # process for one 4 ms time slice adds 800 board ms at the RP2040's factor. Where the host
        # says how long the process waited to run (Linux /proc/self/schedstat), each overrun tick
        # whose excess that wait covers is counted as the host's, not the flight code's.
        self.factor = factor or 1
        self.host_wait = _waited_us() is not None
        self.preempted = 0  # fast-group overruns the host's wait covers
        self.waited_ticks = 0  # ticks during which the process waited to run
        self.waited_us = 0  # wall time it waited, in total (host microseconds)
        # Each task's own time, on the raw clock scaled (cheaper than the executive's clock here)
        for task in ex.tasks:
            task.fn = self._timed(task.name, task.fn, raw, self.factor)

    def _timed(self, name, fn, clock, scale):
        from hal.clock import ticks_diff

        last = self.last
        last[name] = 0

        def timed():
            t0 = clock()
            try:
                fn()
            finally:
                last[name] = int(ticks_diff(clock(), t0) * scale)

        return timed

    def run(self, n):
        from hal.clock import ticks_diff

        app, cpu, fast, system = self.app, self.cpu, self.fast, self.system
        for _ in range(n):
            for name in self.last:
                self.last[name] = 0
            before = fast.overruns
            w0 = _waited_us() if self.host_wait else None
            t0 = cpu()
            app.step()
            used = ticks_diff(cpu(), t0)
            waited = 0
            if w0 is not None:
                waited = _waited_us() - w0
                if waited > 0:
                    self.waited_ticks += 1
                    self.waited_us += waited
            self.ticks += 1
            if used > self.worst_tick_us:
                self.worst_tick_us = used
            if used > TICK_MS * 1000:
                self.slow_ticks += 1
            if fast.overruns != before:
                if fast.last_us - waited * self.factor <= fast.period_ms * 1000:
                    self.preempted += 1
                top = None
                for task in fast.tasks:
                    us = self.last[task.name]
                    self.blame[task.name] = self.blame.get(task.name, 0) + us
                    if top is None or us > self.last[top]:
                        top = task.name
                self.blame_n[top] = self.blame_n.get(top, 0) + 1
            system.advance(TICK_MS)

    def report(self):
        ex = self.ex
        return {
            "ticks": self.ticks,
            "worst_tick_us": self.worst_tick_us,
            "slow_ticks": self.slow_ticks,
            "groups": {
                g.name: {"overruns": g.overruns, "max_us": g.max_us, "period_ms": g.period_ms}
                for g in ex.groups
            },
            "tasks": {t.name: {"max_us": t.max_us, "runs": t.runs, "errors": t.errors} for t in ex.tasks},
            "overrun_blame_us": self.blame,
            "host_wait": {
                "fast_overruns_preempted": self.preempted,
                "ticks": self.waited_ticks,
                "total_ms": self.waited_us // 1000,
                "known": self.host_wait,
            },
            "overrun_longest_task": self.blame_n,
            # the executive's idle-point collections (flight/executive.py); missed: ones that ran
            # inside a tick instead (the heap ran out first)
            "gc": {
                "collections": getattr(ex, "gc_collections", 0),
                "missed": getattr(ex, "gc_missed", 0),
                "every_ticks": getattr(ex, "gc_every", 0),
                "heap_free": getattr(ex, "heap_free", None),
            },
            "mode": self.app.modes.mode,
            "errors": ex.errors(),
            "impl": _impl(),
        }


def _waited_us():
    """Microseconds this process has waited to run since it started (Linux), or None."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) // 1000
    except (OSError, ValueError, IndexError):
        return None


def _impl():
    from protocols import rs

    return rs.IMPL


def serve(flash, factor):
    r = SpeedRun(flash, factor)
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        words = line.split()
        if words[0] == "U":
            n = int(words[2])
            r.run(n // 2)  # commands arrive between the 10 s ticks of the slow group
            if words[1] != "-":
                r.link.ground_write(bytes.fromhex(words[1]))
            r.run(n - n // 2)
            _say("D " + (r.link.ground_read().hex() or "-"))
        elif words[0] == "R":
            _say("R " + repr(r.report()))


def _say(line):
    sys.stdout.write(line + "\n")
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()


if __name__ == "__main__":
    if len(sys.argv) > 3:
        sys.path.insert(0, sys.argv[3])
    serve(sys.argv[1], float(sys.argv[2]))
