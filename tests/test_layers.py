"""The layering of DESIGN.md holds in the code: protocols imports nothing of ours, hal may import
protocols, flight imports hal and protocols but never hal.sim (the board configuration injects
simulated hardware), nothing imports ground."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("protocols", "hal", "flight", "ground", "firmware_builds")
ALLOWED = {
    "protocols": {"protocols"},
    "hal": {"hal", "protocols"},
    "flight": {"flight", "hal", "protocols"},
    "firmware_builds": {"firmware_builds", "protocols", "hal", "flight"},
}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_layers() -> None:
    bad = []
    for layer, allowed in ALLOWED.items():
        for path in (ROOT / layer).rglob("*.py"):
            for mod in _imports(path):
                top = mod.split(".")[0]
                if top in OURS and top not in allowed:
                    bad.append("%s imports %s" % (path.relative_to(ROOT), mod))
                if layer == "flight" and mod.startswith("hal.sim"):
                    bad.append(
                        "%s imports %s (flight gets simulated hardware injected)"
                        % (path.relative_to(ROOT), mod)
                    )
    assert not bad, "\n".join(bad)
