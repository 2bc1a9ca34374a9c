"""Names of a module that live in another one, imported on first use (PEP 562 module __getattr__,
which MicroPython has too).

The send halves of the link stack (what a board runs) keep the names of their receive halves (the
ground's), so `sync.CaduDecoder` still works while a board, which never asks for it, never loads
protocols/sync_rx.py:

    __getattr__ = forward("protocols.sync", "protocols.sync_rx", ("FrameSync", "CaduDecoder"))
"""


def forward(here, there, names):
    """A module __getattr__ for `here` that takes each of `names` from module `there`."""

    def __getattr__(name):  # noqa: N807 - the PEP 562 hook name
        if name in names:
            return getattr(__import__(there, None, None, (name,)), name)
        raise AttributeError("module %r has no attribute %r" % (here, name))

    return __getattr__
