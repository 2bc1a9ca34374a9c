"""The onboard copy of flight/dictionary.py: the same tables without what only the ground reads.

The dictionary is the one source of truth for both ends, written for people: descriptions,
units, telemetry limits. On a board loaded from .mpy every string of it is heap, so a bundle
carries a generated module with the same names and tuple shapes (flight code unpacks them
unchanged) where descriptions, units, event arguments' and report fields' names are empty, and
without the tables no flight module reads (GROUND_ONLY; tests/test_firmware_builds.py checks flight, hal and
protocols never use them).

Tuples are written as calls (`_t(17, 1, ...)`), not literals: mpy-cross folds a literal tuple
into a constant, and a string inside a constant tuple loads as its own heap object, where a
string the code loads is an interned qstr shared with every module that names it. Measured on
the 32-bit emulated board: 10.3 KB live against 13.6 KB as literals (15.1 KB with FAILURES and
the event argument names). A tuple the tables hold more than once (an argument such as
("sid", "u8", 0, 255, ""), a store's argument list) is built once and shared (0.5 KB).
"""

from __future__ import annotations

from pathlib import Path

DICTIONARY = "flight/dictionary.py"
# the files flight/dictionary.py reads its tables from: the generated module holds their tables too,
# so a bundle leaves the files out
DICTIONARY_PARTS = ("flight/dictionary_tc.py", "flight/dictionary_tm.py")
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


def _source(value, shared: dict | None = None) -> str:
    """`value` as Python source that builds it at import, tuples as calls (see the docstring); a
    tuple in `shared` (its source: its name) is written as that name."""
    if isinstance(value, tuple):
        text = "_t(%s)" % ", ".join(_source(v, shared) for v in value)
        return shared.get(text, text) if shared else text
    if isinstance(value, dict):
        return "{%s}" % ", ".join(
            "%s: %s" % (_source(k, shared), _source(v, shared)) for k, v in value.items()
        )
    return repr(value)


def _tuples(value, seen: list) -> None:
    """Every non-empty tuple inside `value`, innermost first, in source order (with repeats)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _tuples(k, seen)
            _tuples(v, seen)
    elif isinstance(value, tuple):
        for v in value:
            _tuples(v, seen)
        if value:
            seen.append(value)


def slim_source(path: Path) -> str:
    """Python source of the slim dictionary generated from the full one at `path`."""
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    lines = [
        '"""Generated from flight/dictionary.py by firmware_builds.slim_dictionary: do not edit."""',
        "def _t(*items):\n    return items\n",
        "_s = []",
    ]
    tables = {}
    for name, value in namespace.items():
        if not name.startswith("_") and name not in GROUND_ONLY:
            tables[name] = _SLIM[name](value) if name in _SLIM else value
    # A tuple written more than once (an argument such as ("sid", "u8", 0, 255, ""), a store's
    # argument list) is built once and shared: immutable, so no flight code can tell.
    seen: list = []
    _tuples(tables, seen)
    plains = [_source(t) for t in seen]
    counts: dict = {}
    for plain in plains:
        counts[plain] = counts.get(plain, 0) + 1
    shared: dict = {}
    named: set = set()
    for t, plain in zip(seen, plains):  # innermost first: shared tuples name the shared ones inside
        if counts[plain] > 1 and plain not in named:
            named.add(plain)
            # held in a list, not in names of their own: a name would be a qstr more on the heap
            name = "_s[%d]" % len(shared)
            text = _source(t, shared)
            lines.append("_s.append(%s)" % text)
            shared[text] = name
    for name, value in tables.items():
        lines.append("%s = %s" % (name, _source(value, shared)))
    lines.append("del _t, _s")
    return "\n".join(lines) + "\n"
