"""B-dot law: sign, saturation, rate estimate (hand-derived), detumble detection."""

import math

from flight.adcs import Bdot


def test_first_cycle_commands_nothing():
    assert Bdot(1e4, 0.2).update((20e-6, 0.0, 0.0), 1.0) == (0.0, 0.0, 0.0)


def test_dipole_opposes_the_field_change_and_saturates():
    b = Bdot(gain=1e4, max_dipole=0.2)
    b.update((20e-6, 0.0, 0.0), 1.0)
    m = b.update((20e-6, 1e-6, -30e-6), 1.0)  # dB/dt = (0, 1e-6, -3e-5) T/s
    assert m[0] == 0.0
    assert abs(m[1] + 0.01) < 1e-12  # -1e4 * 1e-6
    assert m[2] == 0.2  # -1e4 * -3e-5 = 0.3, clamped


def test_rate_estimate_from_a_rotating_field():
    # a 30 uT field rotating at 5 deg/s about z: |dB/dt| / |B| = omega
    omega = math.radians(5.0)
    b = Bdot(gain=1e4, max_dipole=0.2, alpha=1.0)
    for k in range(3):
        a = omega * k * 0.1
        b.update((30e-6 * math.cos(a), 30e-6 * math.sin(a), 0.0), 0.1)
    assert abs(b.rate_estimate - omega) / omega < 1e-3
    assert not b.detumbled


def test_detumbled_after_holding_below_threshold():
    b = Bdot(gain=1e4, max_dipole=0.2, done_rate_dps=1.0, hold=5)
    for _ in range(10):
        b.update((20e-6, 5e-6, 40e-6), 1.0)  # a constant field: no rotation
    assert b.detumbled and b.rate_estimate == 0.0
    b.reset()
    assert not b.detumbled
