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

        raw = hal.clock.ticks_us
        if factor:
            # the board's clock: this interpreter's, `factor` times slower (flight.main.boot gives the
            # executive hal.clock.ticks_us, the board's microsecond clock)
            hal.clock.ticks_us = hal.clock.ScaledCpuClock(factor).ticks_us
        import flight.main

        # the simulated world's in-memory link, which the host drives (not the emulator's UART)
        flight.main._link_for = lambda name: None
        self.system, self.app = flight.main.boot("sim-twin", flash)
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
        # Each task's own time, on the raw clock scaled (cheaper than the executive's clock here)
        scale = factor or 1
        for task in ex.tasks:
            task.fn = self._timed(task.name, task.fn, raw, scale)

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
            t0 = cpu()
            app.step()
            used = ticks_diff(cpu(), t0)
            self.ticks += 1
            if used > self.worst_tick_us:
                self.worst_tick_us = used
            if used > TICK_MS * 1000:
                self.slow_ticks += 1
            if fast.overruns != before:
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
            "overrun_longest_task": self.blame_n,
            "mode": self.app.modes.mode,
            "errors": ex.errors(),
            "impl": _impl(),
        }


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
