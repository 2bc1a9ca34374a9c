"""The onboard copy of flight/dictionary.py: the same tables without what only the ground reads.

The dictionary is the one source of truth for both ends, written for people: descriptions,
units, telemetry limits. On a board loaded from .mpy every string of it is heap, so a bundle
carries a generated module with the same names and tuple shapes (flight code unpacks them
unchanged) where descriptions, units and event argument names are empty, and without the tables
no flight module reads (GROUND_ONLY; tests/test_firmware_builds.py checks flight, hal and
protocols never use them).

Tuples are written as calls (`_t(17, 1, ...)`), not literals: mpy-cross folds a literal tuple
into a constant, and a string inside a constant tuple loads as its own heap object, where a
string the code loads is an interned qstr shared with every module that names it. Measured on
the 32-bit emulated board: 10.3 KB live against 13.6 KB as literals (15.1 KB with FAILURES and
the event argument names).
"""

from __future__ import annotations

from pathlib import Path

DICTIONARY = "flight/dictionary.py"
GROUND_ONLY = ("TELEMETRY", "TM_ENUMS", "FAILURES", "FAIL_REASONS")


def _commands(table: dict) -> dict:
    # name: (service, subtype, fid, args, hazardous, description); arg: (name, type, lo, hi, unit)
    return {
        name: (svc, sub, fid, tuple((a[0], a[1], a[2], a[3], "") for a in args), haz, "")
        for name, (svc, sub, fid, args, haz, _desc) in table.items()
    }


_SLIM = {
    "COMMANDS": _commands,
    # id, severity, format: the argument names only decode a report, on the ground
    "EVENTS": lambda t: {name: (v[0], v[1], v[2], (), "") for name, v in t.items()},
    "PARAMS": lambda t: {pid: (*v[:4], "", "") for pid, v in t.items()},
}


def _source(value) -> str:
    """`value` as Python source that builds it at import, tuples as calls (see the docstring)."""
    if isinstance(value, tuple):
        return "_t(%s)" % ", ".join(_source(v) for v in value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (_source(k), _source(v)) for k, v in value.items())
    return repr(value)


def slim_source(path: Path) -> str:
    """Python source of the slim dictionary generated from the full one at `path`."""
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    lines = [
        '"""Generated from flight/dictionary.py by firmware_builds.slim_dictionary: do not edit."""',
        "def _t(*items):\n    return items\n",
    ]
    for name, value in namespace.items():
        if name.startswith("_") or name in GROUND_ONLY:
            continue
        if name in _SLIM:
            value = _SLIM[name](value)
        lines.append("%s = %s" % (name, _source(value)))
    lines.append("del _t")
    return "\n".join(lines) + "\n"
