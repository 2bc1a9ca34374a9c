"""The layering of DESIGN.md holds in the code: protocols imports nothing of ours, hal may import
protocols, flight imports hal and protocols but never hal.sim (the board configuration injects
simulated hardware), nothing imports ground but board_tools. board_tools (flashing, deploys, the
emulated board, the bench) may use everything below it and the ground's host utilities; of the
ground only its CLI (ground/cli, the front end) imports board_tools."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ("protocols", "hal", "flight", "ground", "firmware_builds", "board_tools")
ALLOWED = {
    "protocols": {"protocols"},
    "hal": {"hal", "protocols"},
    "flight": {"flight", "hal", "protocols"},
    "firmware_builds": {"firmware_builds", "protocols", "hal", "flight"},
    "board_tools": {"board_tools", "protocols", "hal", "flight", "firmware_builds", "ground"},
}
# the ground may import anything of ours except board_tools, which only its CLI (the front end) uses
GROUND_CLI = ROOT / "ground" / "cli"


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            # `from board_tools import emuboard` names the package; the module is what matters
            out.update("%s.%s" % (node.module, a.name) for a in node.names)
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


def test_only_the_cli_of_the_ground_imports_board_tools() -> None:
    bad = []
    for path in (ROOT / "ground").rglob("*.py"):
        if GROUND_CLI in path.parents:
            continue
        bad += [
            "%s imports %s (board tools are for ground/cli only)" % (path.relative_to(ROOT), mod)
            for mod in sorted(_imports(path))
            if mod.split(".")[0] == "board_tools"
        ]
    assert not bad, "\n".join(bad)


def test_the_layers_cover_every_package_of_ours() -> None:
    assert set(ALLOWED) | {"ground"} == set(OURS)
    for layer in OURS:
        assert (ROOT / layer / "__init__.py").exists(), layer
