"""The A/B deployer against the emulated board (real MicroPython, WebAssembly):
a tool that enters the raw REPL stops the running app, and our tools say so and start it again."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from board_tools.emuboard import EmulatedBoard
from board_tools.flash.deploy import HeapTooSmallError, WrongBoardError, deploy, restart, status
from firmware_builds.build import build

MPREMOTE = Path(sys.executable).with_name("mpremote")

# A small app in the shape of flight.main: healthy -> mark_good, then a host-driven main loop that
# sends a heartbeat on the flight UART every 10 ticks.
APP = """import boot_select, machine, emuboard

def main():
    u = machine.UART(1)
    boot_select.mark_good()
    print("app: running")
    n = [0]
    def step():
        n[0] += 1
        if n[0] % 10 == 0:
            u.write(b"hb%d\\n" % n[0])
    emuboard.run_main(step, 10)
"""


def _source(root: Path) -> Path:
    for pkg in ("protocols", "hal", "flight"):
        (root / pkg).mkdir(parents=True, exist_ok=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "flight" / "main.py").write_text(APP)
    return root


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("bundles")
    src = _source(base / "src")
    build("emulated", base / "dist", root=src)
    build("rp2040", base / "dist", root=src)
    return {"emulated": base / "dist" / "emulated", "rp2040": base / "dist" / "rp2040"}


@pytest.fixture
def board(tmp_path: Path) -> Iterator[EmulatedBoard]:
    with EmulatedBoard(tmp_path / "flash", log_console=True) as b:
        yield b


def heartbeat(uart: serial.Serial, timeout: float = 10.0) -> bytes:
    """Wait (deadline) for one heartbeat line from the app on the flight UART."""
    uart.reset_input_buffer()
    uart.timeout = timeout
    line = uart.readline()
    assert line.startswith(b"hb"), "no heartbeat on the flight UART within %s s (got %r)" % (timeout, line)
    return line


def silent(uart: serial.Serial, seconds: float = 0.5) -> bool:
    """Nothing arrives for `seconds` (10 ticks are 100 ms: a running app would have sent 5 heartbeats)."""
    uart.reset_input_buffer()
    uart.timeout = seconds
    return uart.read(1) == b""


def test_status_says_it_restarts_the_app_an_mpremote_command_stopped(
    board: EmulatedBoard, bundles: dict[str, Path]
) -> None:
    assert board.uart_port
    r = deploy(board.port, bundles["emulated"])
    assert (r.slot, r.previous) == ("b", None)
    with serial.Serial(board.uart_port) as uart:
        heartbeat(uart)
        # what the issue saw: one `mpremote ls` stops the flight software, silently
        out = subprocess.run(
            [str(MPREMOTE), "connect", board.port, "ls"], capture_output=True, text=True, timeout=30
        )
        assert out.returncode == 0 and "slot_b/" in out.stdout, out.stdout + out.stderr
        assert silent(uart)
        # our status stops the app too, says so (`restarted`; the CLI prints it: test_flash_cli_errors)
        # and starts it again; it counts the files as deploy does (4 modules + manifest.json)
        s = status(board.port)
        assert s.restarted and s.slots["b"]["files"] == s.slots["b"]["on_board"] == len(r.uploaded) == 5
        heartbeat(uart)
        # status(restart_app=False) leaves it stopped, as mpremote does; restart() starts it
        assert not status(board.port, restart_app=False).restarted
        assert silent(uart)
        restart(board.port)
        heartbeat(uart)
    assert board.wait_console(rb"boot_select: booting slot b\r?\nboot_select: slot b good\r?\napp: running")


def test_a_bundle_for_another_board_is_refused_and_the_app_keeps_running(
    board: EmulatedBoard, bundles: dict[str, Path]
) -> None:
    assert board.uart_port
    deploy(board.port, bundles["emulated"])
    before = sorted(p.relative_to(board.flash_dir) for p in board.flash_dir.rglob("*"))
    with pytest.raises(WrongBoardError, match=r"built for board rp2040 .* sys\.platform webassembly"):
        deploy(board.port, bundles["rp2040"])
    with serial.Serial(board.uart_port) as uart:
        heartbeat(uart)  # deploy stopped the app to look at the board, and started it again
    assert sorted(p.relative_to(board.flash_dir) for p in board.flash_dir.rglob("*")) == before


def test_a_board_without_the_heap_the_bundle_needs_is_refused(
    board: EmulatedBoard, bundles: dict[str, Path], tmp_path: Path
) -> None:
    """The deployer reads the board's free heap at boot and refuses a bundle whose manifest says its
    application needs more (here a bundle that claims 2 GiB: the WebAssembly heap can grow to 128 MiB)."""
    import json
    import shutil

    assert board.uart_port
    said: list[str] = []
    deploy(board.port, bundles["emulated"], log=said.append)
    heap_line = [m for m in said if m.startswith("heap: ")]
    assert heap_line and "B free at boot" in heap_line[0], said
    greedy = tmp_path / "greedy"
    shutil.copytree(bundles["emulated"], greedy)
    manifest = json.loads((greedy / "manifest.json").read_text())
    manifest["heap_needed"] = 2**31
    (greedy / "manifest.json").write_text(json.dumps(manifest))
    before = sorted(p.relative_to(board.flash_dir) for p in board.flash_dir.rglob("*"))
    with pytest.raises(
        HeapTooSmallError,
        match=r"needs 2147483648 B .* but this board has \d+ B .* free at boot; nothing was written",
    ):
        deploy(board.port, greedy)
    with serial.Serial(board.uart_port) as uart:
        heartbeat(uart)  # the app runs on, started again after the look at the board
    assert sorted(p.relative_to(board.flash_dir) for p in board.flash_dir.rglob("*")) == before
