"""The onboard copy of flight/dictionary.py: the same tables without what only the ground reads.

The dictionary is the one source of truth for both ends, written for people: descriptions,
units, telemetry limits. On a board loaded from .mpy every string of it is heap, so a bundle
carries a generated module with the same names and tuple shapes (flight code unpacks them
unchanged) where descriptions and units are empty, and without the tables no flight module
reads (GROUND_ONLY; tests/test_firmware_builds.py checks flight, hal and protocols never use them).
"""

from __future__ import annotations

from pathlib import Path

DICTIONARY = "flight/dictionary.py"
GROUND_ONLY = ("TELEMETRY",)


def _commands(table: dict) -> dict:
    # name: (service, subtype, fid, args, hazardous, description); arg: (name, type, lo, hi, unit)
    return {
        name: (svc, sub, fid, tuple((a[0], a[1], a[2], a[3], "") for a in args), haz, "")
        for name, (svc, sub, fid, args, haz, _desc) in table.items()
    }


_SLIM = {
    "COMMANDS": _commands,
    "FAILURES": lambda t: {code: (name, "") for code, (name, _desc) in t.items()},
    "EVENTS": lambda t: {name: (*v[:4], "") for name, v in t.items()},
    "PARAMS": lambda t: {pid: (*v[:4], "", "") for pid, v in t.items()},
}


def slim_source(path: Path) -> str:
    """Python source of the slim dictionary generated from the full one at `path`."""
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    lines = ['"""Generated from flight/dictionary.py by firmware_builds.slim_dictionary: do not edit."""']
    for name, value in namespace.items():
        if name.startswith("_") or name in GROUND_ONLY:
            continue
        if name in _SLIM:
            value = _SLIM[name](value)
        lines.append("%s = %r" % (name, value))
    return "\n".join(lines) + "\n"
