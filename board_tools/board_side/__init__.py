"""Board-side code of the board tools: MicroPython source the host sends to a board's raw REPL,
kept in real .py files so that mpy-cross compiles them in the tests (tests/test_mpy_cross.py) like
every file that runs on a board. (The A/B deploy's helpers are firmware_builds/deploy_helpers.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).resolve().parent


def source(name: str) -> str:
    """The code of board-side file `name` without its docstring, comment lines and blank lines: what
    the raw REPL receives (the board holds the whole command in its heap while it runs)."""
    text = (HERE / name).read_text()
    tree = ast.parse(text)
    skip = 0
    if ast.get_docstring(tree, clean=False) is not None:
        skip = tree.body[0].end_lineno or 0
    lines = text.splitlines()[skip:]
    return "\n".join(ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))
