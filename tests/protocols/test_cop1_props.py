"""COP-1 under hypothesis: any seed and any link impairment mix delivers exactly once, in order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_cop1 import fly

rate = st.floats(0.0, 0.35)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 2**31 - 1), st.integers(1, 60), rate, rate, rate, rate, st.floats(0.0, 0.8))
def test_exactly_once_in_order(seed, n, drop, corrupt, dup, reorder, clcw_drop):
    delivered, fop, _ = fly(seed, n, drop, corrupt, dup, reorder, clcw_drop, limit_ms=600000)
    expect = [b"cmd%03d" % i for i in range(n)]
    # never a duplicate, never out of order: what arrived is a prefix of what was sent
    assert delivered == expect[: len(delivered)]
    if not fop.suspended:
        assert delivered == expect
