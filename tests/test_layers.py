"""The layering of DESIGN.md holds in the code: protocols imports nothing of ours, hal may import
protocols, flight imports hal and protocols but never hal.sim (the board configuration injects
simulated hardware), nothing imports ground but board_tools. board_tools (flashing, deploys, the
emulated board, the bench) may use everything below it and the ground's host utilities; of the
ground only its CLI (ground/cli, the front end) imports board_tools.

Inside hal/sim the simulator has layers of its own: buses (pins, I2C/SPI/UART, clocks) at the bottom,
chips on the buses, the environment (physics) beside them, and the board assembling all three."""

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
# hal/sim: package -> the hal.sim packages it may import. prng is a leaf every package may use (bus
# faults, sensor noise, radio loss); chips read the environment only through the callables the board
# gives them, and no simulated part but the board reads board definitions or imports a driver.
SIM = ROOT / "hal" / "sim"
SIM_ALLOWED = {
    "buses": {"buses", "prng"},
    "chips": {"chips", "buses", "prng"},
    "env": {"env", "prng"},
    "board": {"board", "buses", "chips", "env", "prng"},
}
SIM_LEAVES = {"__init__.py", "prng.py"}  # directly in hal/sim: every other module is in a package
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


def _sim_violations(package: str, path: Path) -> list[str]:
    bad = []
    for mod in sorted(_imports(path)):
        parts = mod.split(".")
        if parts[0] != "hal":
            continue
        where = "%s imports %s" % (path.relative_to(ROOT), mod)
        if parts[:2] == ["hal", "drivers"]:
            bad.append(where + " (the simulator models chips; the drivers are tested against it)")
        elif parts[:2] == ["hal", "boards"] and package != "board":
            bad.append(where + " (only hal/sim/board reads board definitions)")
        elif parts[:2] == ["hal", "sim"] and len(parts) > 2:
            if package == "prng" or parts[2] not in SIM_ALLOWED[package]:
                allowed = sorted(SIM_ALLOWED.get(package, ()))
                bad.append(where + " (hal/sim/%s may use %s)" % (package, allowed))
    return bad


def test_sim_layers() -> None:
    bad = []
    for path in sorted(SIM.rglob("*.py")):
        rel = path.relative_to(SIM).parts
        if len(rel) == 1:
            if rel[0] not in SIM_LEAVES:
                bad.append("hal/sim/%s: put it in one of %s" % (rel[0], sorted(SIM_ALLOWED)))
            elif rel[0] == "prng.py":
                bad += _sim_violations("prng", path)
            continue
        if rel[0] not in SIM_ALLOWED:
            bad.append("hal/sim/%s: a package the layering does not know" % "/".join(rel))
            continue
        bad += _sim_violations(rel[0], path)
    assert not bad, "\n".join(bad)


def test_sim_packages_exist() -> None:
    for package in SIM_ALLOWED:
        assert (SIM / package / "__init__.py").exists(), package
