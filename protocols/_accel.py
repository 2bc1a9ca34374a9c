"""Selects the C core on CPython, the pure-Python code everywhere else.

`native` is the module `protocols._native.wrap` (same functions, same
exceptions as the pure code) or None: on MicroPython, when the C core was not
built (no compiler), or when the environment sets PROTOCOLS_PURE=1.

Every public function with a C path checks its arguments once per call, the same way on
both paths, and raises protocols.errors.ArgumentError (same field) for a bad one: buffers
must pass `readable` (or `writable` when written in place), integers must be exactly `int`
(bool is a flag, not a number; MicroPython agrees) in the documented range. The wrapper
takes its fast path only for plainly valid arguments and hands anything else to the pure
function, so the two cannot disagree.
"""

import sys

BUFFER = "bytes, bytearray or a memoryview of bytes"
WRITABLE = "a bytearray or a writable memoryview of bytes"


def readable(buf):
    """bytes, bytearray or a flat memoryview of unsigned bytes: what both paths read alike."""
    t = type(buf)
    if t is bytes or t is bytearray:
        return True
    # MicroPython's memoryview has neither attribute (and no other formats reach it here)
    return t is memoryview and getattr(buf, "format", "B") == "B" and getattr(buf, "c_contiguous", True)


def writable(buf):
    """A readable buffer that can be written in place."""
    if type(buf) is bytearray:
        return True
    return type(buf) is memoryview and readable(buf) and not getattr(buf, "readonly", False)


def span(n, start, end):
    """(start, end) of a scan over n bytes: end None or past n is n, and both are clamped to
    0..n with start <= end (a negative bound counts as 0, not from the end). The pure scanners
    and the C core's fast path clamp alike through this one function."""
    if end is None or end > n:
        end = n
    elif end < 0:
        end = 0
    if start < 0:
        start = 0
    elif start > end:
        start = end
    return start, end


native = None

if sys.implementation.name == "cpython":
    import os

    if os.environ.get("PROTOCOLS_PURE", "") not in ("1", "true", "yes"):
        try:
            from protocols._native import wrap as native
        except ImportError as exc:  # no compiler at build time: stay pure, say so once
            import warnings

            warnings.warn("protocols: C core unavailable (%s), using pure Python" % exc, RuntimeWarning, 2)
            native = None
