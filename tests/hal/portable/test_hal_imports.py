# upy-heapsize: 256K  hal.sim.board.world (the whole simulator, emulated boards only) from source, 64-bit
"""Every hal/ module imports on this interpreter (on MicroPython: parses, compiles and runs its
top level within the 192 KiB heap, one module at a time), except the real-board factory, which
needs `machine.Pin`/`machine.I2C` of a board."""

import gc
import os
import sys

_SKIP = ("hal.boards.machine_board",)


def _walk(folder, package, out):
    for name in sorted(os.listdir(folder)):
        path = folder + "/" + name
        if name.endswith(".py"):
            mod = package if name == "__init__.py" else package + "." + name[:-3]
            out.append(mod)
        elif name != "__pycache__" and "." not in name:
            try:
                os.listdir(path)
            except OSError:
                continue
            _walk(path, package + "." + name, out)


def _modules():
    import hal

    out = []
    _walk(hal.__file__.rsplit("/", 1)[0], "hal", out)
    return out


def _unload(names):
    """Forget modules imported since `names` (sys.modules and their parent package's attribute),
    so the next import starts from the same heap."""
    for name in [m for m in sys.modules if m not in names]:
        del sys.modules[name]
        parent, _, child = name.rpartition(".")
        if parent in sys.modules and hasattr(sys.modules[parent], child):
            delattr(sys.modules[parent], child)


def test_every_hal_module_imports():
    mods = _modules()
    assert len(mods) > 20
    failed = []
    loaded = set(sys.modules)
    for mod in mods:
        if mod in _SKIP:
            continue
        try:
            __import__(mod)
        except Exception as exc:  # collect them all, report at once
            failed.append("%s: %s: %s" % (mod, type(exc).__name__, exc))
        _unload(loaded)
        gc.collect()
    assert not failed, "; ".join(failed)


def test_drivers_leave_the_simulation_unloaded():
    mods = _modules()
    saved = {}
    for name in list(sys.modules):
        if name == "hal" or name.startswith("hal."):
            saved[name] = sys.modules.pop(name)
    try:
        gc.collect()
        for mod in mods:
            if mod.startswith("hal.drivers"):
                __import__(mod)
        loaded = [name for name in sys.modules if name.startswith("hal.sim")]
    finally:  # put the original modules back: other tests hold their classes
        for name in list(sys.modules):
            if name == "hal" or name.startswith("hal."):
                del sys.modules[name]
        sys.modules.update(saved)
    assert not loaded, "drivers pulled in %s" % loaded
