"""Rate groups: deterministic order and periods, overruns, task isolation, watchdog feeding."""

from _check import raises

from flight.executive import Executive
from hal.sim.buses.clock import VirtualClock


class FakeCpu:
    def __init__(self):
        self.us = 0

    def __call__(self):
        return self.us


def test_groups_run_at_their_periods_in_order():
    ex = Executive(tick_ms=100)
    trace = []
    ex.add("fast", 100, "a", lambda: trace.append("a"))
    ex.add("fast", 100, "b", lambda: trace.append("b"))
    ex.add("control", 1000, "c", lambda: trace.append("c"))
    ex.add("slow", 10000, "s", lambda: trace.append("s"))
    for _ in range(20):
        ex.step()
    assert trace.count("a") == 20 and trace.count("c") == 2 and trace.count("s") == 1
    assert trace[:5] == ["a", "b", "c", "s", "a"]  # tick 0: every group, in registration order
    raises(ValueError, ex.add, "odd", 150, "x", lambda: None)
    raises(ValueError, ex.add, "fast", 200, "x", lambda: None)


def test_a_raising_task_is_isolated_reported_and_eventually_disabled():
    events = []
    ex = Executive(tick_ms=100, on_event=lambda *e: events.append(e), max_failures=3)
    ran = []

    def bad():
        raise ZeroDivisionError("boom")

    ex.add("fast", 100, "bad", bad)
    ex.add("fast", 100, "good", lambda: ran.append(1))
    for _ in range(5):
        ex.step()
    assert len(ran) == 5  # the good task never missed a tick
    bad_task = ex.tasks[0]
    assert bad_task.errors == 3 and not bad_task.enabled
    assert "ZeroDivisionError: boom" in bad_task.last_error
    assert events == [("TASK_FAILED", 0), ("TASK_DISABLED", 0)]
    assert ex.errors() == 3


def test_overrun_is_counted_and_reported():
    cpu = FakeCpu()
    events = []
    ex = Executive(tick_ms=100, cpu_us=cpu, on_event=lambda *e: events.append(e))

    def slow():
        cpu.us += 150000  # 150 ms of work in a 100 ms group

    def quick():
        cpu.us += 2000

    ex.add("fast", 100, "quick", quick)
    ex.add("control", 1000, "slow", slow)
    for _ in range(10):
        ex.step()
    assert ex.groups[0].overruns == 0 and ex.groups[1].overruns == 0  # 150 ms fits the 1 s control period
    ex2 = Executive(tick_ms=100, cpu_us=cpu, on_event=lambda *e: events.append(e))
    ex2.add("fast", 100, "slow", slow)
    ex2.step()
    assert ex2.groups[0].overruns == 1 and ex2.overruns() == 1
    assert events[-1] == ("OVERRUN", 0, 150)


def test_watchdog_is_fed_once_per_complete_tick():
    feeds = []
    ex = Executive(tick_ms=100, feed=lambda: feeds.append(1))

    def boom():
        raise OSError(5)

    ex.add("fast", 100, "boom", boom)
    for _ in range(7):
        ex.step()
    assert len(feeds) == 7  # an isolated failure still completes the tick


def test_run_paces_ticks_and_counts_slips():
    clock = VirtualClock()
    ex = Executive(tick_ms=100)
    n = []

    def work():
        n.append(clock.ticks_ms())
        if len(n) == 3:
            clock.advance_ms(350)  # one tick ran 3.5 periods long

    ex.add("fast", 100, "w", work)
    ex.run(clock, ticks=6)
    assert n[:3] == [0, 100, 200]
    assert ex.slips == 2  # the ticks due at 300 and 400 ms were skipped, the 500 ms one ran late
    assert n[3] == 550 and n[4] == 600  # back on the original 100 ms grid after the slip


def test_idle_collection_runs_after_the_tasks_and_adapts_its_interval():
    import gc

    ex = Executive(tick_ms=100, gc_idle=True)
    junk = []
    ex.add("fast", 100, "alloc", lambda: junk.append(bytearray(256)) or (len(junk) > 4 and junk.pop(0)))
    for _ in range(40):
        ex.step()
    if not hasattr(gc, "mem_free"):  # CPython: no fixed heap, no idle collection
        assert ex.gc_collections == 0 and ex.heap_free is None
        return
    assert ex.gc_collections >= 2 and ex.heap_free > 0 and ex.gc_reserve > 0
    assert ex.gc_every >= 1
    assert Executive(tick_ms=100).gc_collections == 0  # off unless asked for
