"""The flight application at a board's speed (./dev.sh bench): 30 simulated minutes at the RP2040
factor, housekeeping downlink and an authenticated ping every 10 s from a ground Terminal, reporting
the 100 ms group's OVERRUNs, the worst tick in board milliseconds and which tasks the overruns come
from (docs/board-speed.md).

Three interpreters, each with its own factor to the RP2040 (hal/boards/rp2040_flight.py):
- the unix port: RP2040 factor x its clock; it has viper, so the RS encode is what a board runs;
- the emulated board (WebAssembly): its own clock at the factor calibrated at power-on; no viper, so
  the RS encode is the pure-Python fallback (slower than a board with viper);
- the twin (CPython), calibrated the same way; its RS encode is the C core (faster than a board).

Writes .bench/board_speed.json. A benchmark: nothing asserts a time; the tests check only that the
run flew (commands verified, no task failure).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from board_tools.board_speed import published, twin_speed, unix_port
from ground.terminal import Terminal

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("board_speed_flight.py")
OUT = ROOT / ".bench" / "board_speed.json"
BOARD = "rp2040"
MINUTES = float(os.environ.get("BOARD_SPEED_MINUTES", "30"))
TICK_MS = 100
CHUNK = 100  # ticks between commands: one every 10 s
KEY = bytes(range(32))
# the unix port's heap (64-bit): a board-sized heap collects often and briefly; a large one rarely
# and for longer, and the pauses land in whichever task allocates at the time
UNIX_HEAP = os.environ.get("BOARD_SPEED_UNIX_HEAP", "1M")


def _flash(tmp: Path, with_code: bool) -> Path:
    root = tmp / "board"
    (root / "flash").mkdir(parents=True)
    (root / "flash" / "sdls_key.hex").write_text(KEY.hex())
    if with_code:  # the emulated board imports from its own flash
        for pkg in ("protocols", "hal", "flight"):
            shutil.copytree(
                ROOT / pkg, root / pkg, ignore=shutil.ignore_patterns("_native", "__pycache__", "*.so")
            )
        shutil.copy(DRIVER, root / DRIVER.name)
    return root


def fly(chunk: Callable[[bytes, int], bytes], report: Callable[[], dict], minutes: float) -> dict:
    """A ground Terminal commands the board every 10 s and reads every downlink byte."""
    term = Terminal(key=KEY)
    term.start(0)
    now = 0
    sent = []
    total = int(minutes * 60_000 // TICK_MS)
    done = 0
    t0 = time.monotonic()
    while done < total:
        sent.append(term.command("ping"))
        n = min(CHUNK, total - done)
        down = chunk(term.uplink(now), n)
        done += n
        now += n * TICK_MS
        term.downlink(down, now)
    r = report()
    r["wall_s"] = round(time.monotonic() - t0, 1)
    r["simulated_min"] = minutes
    r["commands_sent"] = len(sent)
    r["commands_verified"] = sum(1 for s in sent if 7 in term.verdict(s))
    r["hk_reports"] = len(term.hk)
    r["overrun_events"] = sum(1 for e in term.events if e[1] == "OVERRUN")
    r["worst_tick_board_ms"] = r["worst_tick_us"] / 1000
    r["fast_overruns"] = r["groups"]["fast"]["overruns"]
    return r


def _stdio_run(cmd: list[str], cwd: Path, minutes: float, env: dict | None = None) -> dict:
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def ask(line: str, tag: str) -> str:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        got = proc.stdout.readline()
        if not got.startswith(tag + " "):
            proc.kill()
            pytest.fail("driver answered %r; stderr: %s" % (got[:200], proc.stderr.read()[-2000:]))
        return got[len(tag) + 1 :].strip()

    def chunk(up: bytes, n: int) -> bytes:
        got = ask("U %s %d" % (up.hex() or "-", n), "D")
        return b"" if got == "-" else bytes.fromhex(got)

    try:
        return fly(chunk, lambda: ast.literal_eval(ask("R", "R")), minutes)
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)


def _record(name: str, result: dict, benchmark) -> None:
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    data["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    data["board"] = BOARD
    data[name] = result
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    benchmark.extra_info["impl"] = "ours"
    benchmark.extra_info.update(
        {k: result[k] for k in ("factor", "fast_overruns", "worst_tick_board_ms", "slow_ticks", "impl")}
    )
    slow = sorted(result["tasks"].items(), key=lambda kv: -kv[1]["max_us"])[:4]
    wait = result.get("host_wait") or {}
    preempted = wait.get("fast_overruns_preempted") if wait.get("known") else "unknown how many"
    print(
        "\n%s at %s x%.3g: %d fast-group overruns in %d ticks (%s of them the host preempting the run),"
        " worst tick %.1f board ms, %d/%d commands verified; slowest tasks (board ms): %s;"
        " overruns by task: %s"
        % (
            name,
            BOARD,
            result["factor"],
            result["fast_overruns"],
            result["ticks"],
            preempted,
            result["worst_tick_board_ms"],
            result["commands_verified"],
            result["commands_sent"],
            ", ".join("%s %.1f" % (k, v["max_us"] / 1000) for k, v in slow),
            result["overrun_longest_task"],
        )
    )


def _check_flew(r: dict) -> None:
    assert r["errors"] == 0, r["tasks"]
    assert r["commands_verified"] == r["commands_sent"] > 0
    assert r["hk_reports"] > 0


@pytest.mark.benchmark(group="board speed: 30 simulated minutes at the RP2040 factor")
def test_rp2040_speed_on_unix_port(benchmark, tmp_path: Path) -> None:
    """The unix port with viper, its clock x the RP2040's published factor against it."""
    _, vs_unix, source = published(BOARD)
    root = _flash(tmp_path, with_code=False)
    cmd = [unix_port(), "-X", "heapsize=" + UNIX_HEAP, str(DRIVER), "flash", repr(vs_unix), str(ROOT)]
    r = benchmark.pedantic(lambda: _stdio_run(cmd, root, MINUTES), rounds=1, iterations=1)
    r.update(
        {
            "interpreter": "micropython unix port (viper), -X heapsize=" + UNIX_HEAP,
            "factor": vs_unix,
            "source": source,
        }
    )
    _check_flew(r)
    assert r["impl"] == "viper"
    _record("unix_port", r, benchmark)


@pytest.mark.timeout(4 * 3600)  # about 35 min of wall time on this machine: pure-Python RS every tick
@pytest.mark.benchmark(group="board speed: 30 simulated minutes at the RP2040 factor")
def test_rp2040_speed_on_emulated_board(benchmark, tmp_path: Path) -> None:
    """The WebAssembly board, its clock at the factor it calibrated at power-on (pure-Python RS)."""
    from mpremote.transport_serial import SerialTransport

    from board_tools.emuboard import EmulatedBoard

    root = _flash(tmp_path, with_code=True)
    with EmulatedBoard(root, uart_pty=False, virtual_clock=True, board_speed=BOARD) as board:
        t = SerialTransport(board.port, baudrate=115200)
        try:
            t.enter_raw_repl(soft_reset=False)

            def run(code: str) -> str:
                out, err = t.exec_raw(code, timeout=1800)
                assert not err, err.decode()[-2000:]
                return out.decode()

            run(
                "import sys\nsys.path.insert(0, '/')\n"
                "from board_speed_flight import SpeedRun\nr = SpeedRun('flash')"
            )

            def chunk(up: bytes, n: int) -> bytes:
                got = run(
                    "r.run(%d)\nr.link.ground_write(%r)\nr.run(%d)\nprint(r.link.ground_read().hex())"
                    % (n // 2, up, n - n // 2)
                )  # the command arrives halfway, as in the driver's own serve()
                return bytes.fromhex(got.strip())

            def report() -> dict:
                return ast.literal_eval(run("print(repr(r.report()))").strip())

            r = benchmark.pedantic(lambda: fly(chunk, report, MINUTES), rounds=1, iterations=1)
            t.exit_raw_repl()
        finally:
            t.close()
        speed = dict(board.speed or {})
    r.update({"interpreter": "micropython webassembly (emulated board, no viper)", "calibration": speed})
    r["factor"] = speed["factor"]
    _check_flew(r)
    _record("emulated_board", r, benchmark)


@pytest.mark.benchmark(group="board speed: 30 simulated minutes at the RP2040 factor")
def test_rp2040_speed_on_twin(benchmark, tmp_path: Path) -> None:
    """CPython (the twin's interpreter), its clock x the factor calibrated against the unix port.
    Its RS encode is the C core, so this row is the optimistic one."""
    cal = twin_speed(BOARD)
    root = _flash(tmp_path, with_code=False)
    cmd = [sys.executable, str(DRIVER), "flash", repr(cal["factor"]), str(ROOT)]
    r = benchmark.pedantic(lambda: _stdio_run(cmd, root, MINUTES), rounds=1, iterations=1)
    r.update({"interpreter": "cpython (C core)", "factor": cal["factor"], "calibration": cal})
    _check_flew(r)
    _record("twin_cpython", r, benchmark)
