"""The PUS services' codecs as a board carries them: what the board's code uses, no more.

A service's codec (protocols/pus_<n>_<name>.py) is one file with its encoder and its decoder, so
the two cannot drift apart. A board only encodes, and on a board loaded from .mpy every function's
bytecode, every global and every string is heap: as written, the nine codecs the flight loads
held 5.3 KB of the RP2040's heap (the 32-bit emulated board). A bundle therefore compiles each
codec with the top-level definitions no other module of the bundle names blanked out (the
decoders, the field names, the subtypes of requests only the ground builds), line for line so a
board's traceback still names the source's lines, and then the imports nothing kept uses. With
the codecs of on-demand reports released after use (flight/app.py report_once) they hold 1.6 KB.

    text = board_source(source, used)    # used: every name the bundle's other modules mention

tests/test_firmware_builds.py checks a board's copy keeps its encoders and drops its decoders.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize

CODEC = re.compile(r"^protocols/pus_\d+_\w+\.py$")


def is_codec(rel: str) -> bool:
    return bool(CODEC.match(rel))


def names_in(text: str) -> set[str]:
    """Every name a source's code mentions (not its comments and strings): a superset of the names
    it uses, so safe to keep by."""
    try:
        return {
            t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.NAME
        }
    except (tokenize.TokenError, SyntaxError):  # mpy-cross names the error; every word is a superset
        return set(re.findall(r"[A-Za-z_]\w*", text))


def board_source(text: str, used: set[str]) -> str:
    """`text` (a codec's source) with the top-level functions and constants that neither `used` nor
    the codec's kept code names blanked, and then the imports nothing kept uses; lines kept."""
    tree = ast.parse(text)
    defined = {_name(n): n for n in tree.body if _name(n)}
    keep = {name for name in defined if name in used}
    todo = list(keep)
    while todo:  # what a kept definition uses is kept too
        for ref in _refs(defined[todo.pop()]):
            if ref in defined and ref not in keep:
                keep.add(ref)
                todo.append(ref)
    dropped = [n for name, n in defined.items() if name not in keep]
    needed = set().union(*(_refs(defined[name]) for name in keep)) if keep else set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = {(a.asname or a.name).split(".")[0] for a in node.names}
            if not bound & needed:
                dropped.append(node)
    lines = text.splitlines(keepends=True)
    for node in dropped:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        for i in range(first - 1, node.end_lineno or node.lineno):
            lines[i] = "\n"
    return "".join(lines)


def _name(node: ast.stmt) -> str | None:
    """The name a top-level function or single-name constant defines (None: not one of those)."""
    if isinstance(node, ast.FunctionDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


def _refs(node: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
