"""Runs portable test modules under any Python: MicroPython's unix port or CPython.

    micropython -X heapsize=192K tests/upy_runner.py tests/portable/test_crc.py ...

Each module's `test_*` functions run in name order; one line per test
("PASS module::name" or "FAIL module::name: Type: message"), then the closing
line "N passed, N failed". The pytest wrapper (tests/test_micropython.py) runs
this under both interpreters and requires identical lines.
"""

import gc
import sys


def _module_name(path):
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".py"):
        name = name[:-3]
    return name


def _root_of(path):
    # the repository root is the folder that holds tests/
    if path.startswith("tests/"):
        return "."
    idx = path.find("/tests/")
    return path[:idx] if idx > 0 else "."


def run(paths):
    passed = 0
    failed = 0
    for path in paths:
        root = _root_of(path)
        for extra in (root, root + "/tests/portable", path.rsplit("/", 1)[0] if "/" in path else "."):
            if extra not in sys.path:
                sys.path.insert(0, extra)
        mod_name = _module_name(path)
        module = __import__(mod_name)
        names = sorted(n for n in dir(module) if n.startswith("test_"))
        for name in names:
            fn = getattr(module, name)
            try:
                fn()
                print("PASS %s::%s" % (mod_name, name))
                passed += 1
            except Exception as exc:  # report every failure, keep going
                print("FAIL %s::%s: %s: %s" % (mod_name, name, type(exc).__name__, exc))
                failed += 1
            gc.collect()
    print("%d passed, %d failed" % (passed, failed))
    return failed


if __name__ == "__main__":
    sys.exit(1 if run(sys.argv[1:]) else 0)
