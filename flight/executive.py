"""Deterministic rate groups driven by a monotonic tick (F Prime's rate groups, cFS's scheduler).

    ex = Executive(tick_ms=100, cpu_us=clock.ticks_us)
    ex.add("fast", 100, "thrusters", thrusters.poll)
    ex.add("control", 1000, "adcs", adcs.step)
    ex.step()          # one tick: every group whose period divides the tick count runs, in order

`step()` is all the twin calls, so simulated time runs as fast as the host can compute it;
`run()` paces ticks against a real clock on the board. A group that takes longer than its
period is an overrun (counted, reported). A task that raises is isolated: counted, reported as
an event, the rest of the tick runs; after `max_failures` consecutive failures it is disabled.
The watchdog is fed only after a complete tick, so a hung task starves it.

With `gc_idle` (MicroPython) the executive collects garbage itself at the end of a tick, after
every task and outside every group's timing, often enough that the heap never runs out inside a
task (where a collection would be charged to that task's group, and on a board pause it): it
measures the garbage made per tick between its collections and collects when the next ticks would
eat into a reserve (a quarter of the heap free after a collection). `gc_missed` counts
collections that ran elsewhere anyway (the heap ran out first); each one shortens the interval.
"""

import gc

from hal.clock import ticks_add, ticks_diff


class Task:
    # failure fields as class defaults: a task that never failed carries none of them in its own
    # attribute table (about 40 B of a board's heap per task)
    errors = 0
    consecutive = 0
    enabled = True
    last_error = None

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn
        self.runs = 0
        self.max_us = 0


class RateGroup:
    overruns = 0  # class defaults, as Task's
    max_us = 0
    last_us = 0

    def __init__(self, name, period_ticks, period_ms):
        self.name = name
        self.period = period_ticks
        self.period_ms = period_ms
        self.tasks = []


class Executive:
    slips = 0  # ticks run late by run() (a whole period or more); class defaults, as Task's
    gc_missed = 0  # collections that ran inside the ticks, not at the idle point

    def __init__(self, tick_ms=100, cpu_us=None, on_event=None, feed=None, max_failures=5, gc_idle=False):
        self.tick_ms = tick_ms
        self.cpu_us = cpu_us  # execution-time clock (None: no timing, no overrun detection)
        self.on_event = on_event  # on_event(name, *aux), e.g. EventReporter.report
        self.feed = feed  # watchdog feed, called after each complete tick
        self.max_failures = max_failures
        self.groups = []
        self.tasks = []
        self.tick = 0
        # idle-point garbage collection (MicroPython: CPython has no gc.mem_free and no fixed heap)
        self._gc_on = gc_idle and hasattr(gc, "mem_free")
        self.gc_every = 1  # ticks between collections (adapted to the garbage made per tick)
        self.gc_reserve = 0  # bytes kept free for the ticks between collections
        self.gc_collections = 0
        self.heap_free = None  # bytes free after the last idle collection
        self._gc_ticks = 0
        self._gc_rate = 0  # garbage per tick (bytes), the recent peak

    def group(self, name):
        for g in self.groups:
            if g.name == name:
                return g
        return None

    def add(self, group_name, period_ms, name, fn):
        if period_ms % self.tick_ms:
            raise ValueError(
                "%s: period %d ms is not a multiple of the %d ms tick" % (name, period_ms, self.tick_ms)
            )
        g = self.group(group_name)
        if g is None:
            g = RateGroup(group_name, period_ms // self.tick_ms, period_ms)
            self.groups.append(g)
        elif g.period_ms != period_ms:
            raise ValueError("group %s already runs every %d ms" % (group_name, g.period_ms))
        task = Task(name, fn)
        g.tasks.append(task)
        self.tasks.append(task)
        return task

    def _event(self, name, *aux):
        if self.on_event is not None:
            try:
                self.on_event(name, *aux)
            except Exception:
                pass  # reporting must never take the executive down

    def _run_task(self, task):
        cpu = self.cpu_us
        t0 = cpu() if cpu else 0
        try:
            task.fn()
            if task.consecutive:
                task.consecutive = 0
        except Exception as exc:  # isolation: one task's bug must not stop the others
            task.errors += 1
            task.consecutive += 1
            task.last_error = "%s: %s" % (type(exc).__name__, exc)
            idx = self.tasks.index(task)
            if task.consecutive >= self.max_failures:
                task.enabled = False
                self._event("TASK_DISABLED", idx)
            elif task.consecutive == 1:
                self._event("TASK_FAILED", idx)
        task.runs += 1
        if cpu:
            used = ticks_diff(cpu(), t0)
            if used > task.max_us:
                task.max_us = used

    def step(self):
        tick = self.tick
        cpu = self.cpu_us
        for gi, g in enumerate(self.groups):
            if tick % g.period:
                continue
            t0 = cpu() if cpu else 0
            for task in g.tasks:
                if task.enabled:
                    self._run_task(task)
            if cpu:
                used = ticks_diff(cpu(), t0)
                g.last_us = used
                if used > g.max_us:
                    g.max_us = used
                if used > g.period_ms * 1000:
                    g.overruns += 1
                    self._event("OVERRUN", gi, min(used // 1000, 65535))
        self.tick = tick + 1
        if self._gc_on:
            self._gc_ticks += 1
            if self._gc_ticks >= self.gc_every:
                self.collect()
        if self.feed is not None:
            self.feed()

    def collect(self):
        """Collect garbage now (the tick's idle point) and plan the next collection."""
        before = gc.mem_free()
        gc.collect()
        after = gc.mem_free()
        n = self._gc_ticks or 1
        self._gc_ticks = 0
        rate = self._gc_rate - (self._gc_rate >> 3)  # a peak from long ago fades
        if self.gc_collections:
            if before <= self.heap_free:
                made = (self.heap_free - before) // n + 1
                if made > rate:
                    rate = made
            else:  # free heap grew between our collections: one ran inside a tick
                self.gc_missed += 1
                rate = 2 * rate + 1
        self._gc_rate = rate
        if not self.gc_reserve:
            self.gc_reserve = after >> 2
        self.heap_free = after
        self.gc_collections += 1
        if rate:
            every = (after - self.gc_reserve) // (rate + (rate >> 2))
            self.gc_every = every if every > 1 else 1

    def overruns(self):
        return sum(g.overruns for g in self.groups) + self.slips

    def errors(self):
        return sum(t.errors for t in self.tasks)

    def run(self, clock, ticks=None):
        """Pace ticks with the real clock: sleep to each deadline, count (and skip) late ticks."""
        deadline = clock.ticks_ms()
        n = 0
        while ticks is None or n < ticks:
            self.step()
            n += 1
            deadline = ticks_add(deadline, self.tick_ms)
            late = ticks_diff(clock.ticks_ms(), deadline)
            if late >= self.tick_ms:
                skipped = late // self.tick_ms
                self.slips += skipped
                deadline = ticks_add(deadline, skipped * self.tick_ms)
            elif late < 0:
                clock.sleep_ms(-late)
