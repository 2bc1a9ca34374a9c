"""Selects the C core on CPython, the pure-Python code everywhere else.

`native` is the module `protocols._native.wrap` (same functions, same
exceptions as the pure code) or None: on MicroPython, when the C core was not
built (no compiler), or when the environment sets PROTOCOLS_PURE=1.
"""

import sys

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
