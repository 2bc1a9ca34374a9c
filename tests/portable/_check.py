"""Assertion helpers that work on MicroPython and CPython (no pytest there)."""


def raises(exc_type, fn, *args, **kwargs):
    """Call fn and return the exception it raised; fail unless it is an exc_type."""
    try:
        fn(*args, **kwargs)
    except exc_type as exc:
        return exc
    raise AssertionError("%s not raised by %s" % (exc_type.__name__, getattr(fn, "__name__", fn)))


def unhex(text):
    """bytes from hex text that may contain spaces and newlines (spec listings)."""
    return bytes.fromhex("".join(text.split()))
