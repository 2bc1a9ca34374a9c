"""hal.clock: MicroPython's tick arithmetic (period 2^30, signed differences across a wrap),
the VirtualClock the twin drives (hal.sim.buses.clock), and the real clock moving forward. Expected
values are worked out by hand from the definition in MicroPython's docs (time.ticks_diff: result
in [-PERIOD/2, PERIOD/2 - 1])."""

from hal import clock
from hal.sim.buses.clock import VirtualClock

PERIOD = 1 << 30
MAX = PERIOD - 1


def test_ticks_add_wraps_both_ways():
    assert clock.ticks_add(MAX, 1) == 0
    assert clock.ticks_add(0, -1) == MAX
    assert clock.ticks_add(100, 23) == 123
    assert clock.ticks_add(MAX - 4, 10) == 5


def test_ticks_diff_is_signed_across_the_wrap():
    assert clock.ticks_diff(5, MAX - 4) == 10  # 10 ticks later, across the wrap
    assert clock.ticks_diff(MAX - 4, 5) == -10
    assert clock.ticks_diff(1000, 1000) == 0
    assert clock.ticks_diff(PERIOD // 2 - 1, 0) == PERIOD // 2 - 1  # the largest positive answer
    assert clock.ticks_diff(PERIOD // 2, 0) == -(PERIOD // 2)  # one more reads as the past


def test_deadline_pattern_survives_the_wrap():
    start = MAX - 50
    deadline = clock.ticks_add(start, 100)
    assert deadline == 49
    assert clock.ticks_diff(deadline, clock.ticks_add(start, 99)) == 1  # not yet
    assert clock.ticks_diff(deadline, clock.ticks_add(start, 101)) == -1  # passed


def test_virtual_clock_moves_only_when_told():
    vc = VirtualClock(start_ms=1000)
    assert vc.ticks_ms() == 1000 and vc.ticks_us() == 1000000
    vc.sleep_ms(250)  # sleeping advances simulated time instead of waiting
    assert vc.ticks_ms() == 1250
    vc.advance_us(1500)
    assert vc.ticks_ms() == 1251 and vc.ticks_us() == 1251500
    assert vc.seconds() == 1.2515


def test_virtual_clock_ticks_wrap_like_a_board():
    vc = VirtualClock(start_ms=MAX)  # ms counter at its last value
    t0 = vc.ticks_ms()
    vc.advance_ms(2)
    assert vc.ticks_ms() == 1 and clock.ticks_diff(vc.ticks_ms(), t0) == 2
    vc = VirtualClock()
    vc.advance_us(PERIOD + 7)  # the us counter wraps after 2^30 us (17.9 minutes)
    assert vc.ticks_us() == 7


def test_real_clock_is_monotonic_and_sleeps():
    rc = clock.RealClock()
    t0 = rc.ticks_ms()
    u0 = rc.ticks_us()
    rc.sleep_ms(20)
    dt = clock.ticks_diff(rc.ticks_ms(), t0)
    du = clock.ticks_diff(rc.ticks_us(), u0)
    assert 18 <= dt < 1000
    assert 18000 <= du < 1000000
