"""`cubesat emulate` and `python -m board_tools.emuboard`: run an emulated board until stopped."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from board_tools.emuboard import EmulatedBoard, EmulatorError


def run_emulator(
    flash: str,
    *,
    link: str | None = None,
    uart_link: str | None = None,
    uart_tcp: int | None = None,
    uart_pty: bool = True,
    virtual_clock: bool = False,
    heap_kb: int = 192,
    flash_kb: int = 2048,
    echo: Callable[[str], None] | None = None,
    raise_errors: bool = False,
    board_speed: str | None = None,
    speed_factor: float | None = None,
    rom_kb: int = 0,
) -> int:
    """Run a board until SIGINT/SIGTERM (the body of `cubesat emulate`); restarts node if it crashes.

    Returns 0 after a clean stop, 1 if the board kept crashing. If it cannot start (no node, a busy
    TCP port, a flash folder that cannot be created or written) it echoes one `error: ...` line and
    returns 1, or with raise_errors raises EmulatorError with that line."""
    if echo is None:

        def echo(line: str) -> None:
            print(line, flush=True)  # the ports must reach a script reading our stdout through a pipe

    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with EmulatedBoard(
            flash,
            link=link,
            uart_link=uart_link,
            uart_tcp=uart_tcp,
            uart_pty=uart_pty,
            virtual_clock=virtual_clock,
            heap_kb=heap_kb,
            flash_kb=flash_kb,
            board_speed=board_speed,
            speed_factor=speed_factor,
            rom_kb=rom_kb,
        ) as board:
            echo("console  %s%s" % (board.port, "  (-> %s)" % link if link else ""))
            if board.speed:
                echo("speed    %s" % describe_speed(board.speed))
            if board.uart_port:
                echo("uart     %s%s" % (board.uart_port, "  (-> %s)" % uart_link if uart_link else ""))
            if board.uart_tcp is not None:
                echo("uart tcp socket://127.0.0.1:%d" % board.uart_tcp)
            echo("flash    %s" % Path(flash).resolve())
            if rom_kb:
                echo("rom      %d KiB ROMFS partition, kept in %s" % (rom_kb, board.rom_file.resolve()))
            echo("try: mpremote connect %s repl   (Ctrl-C here stops the board)" % (link or board.port))
            crashes = 0
            while not stop.wait(0.2):
                if not board.alive:
                    crashes += 1
                    echo("board crashed: %s" % "".join(board.errors)[-500:].strip())
                    if crashes > 3:
                        return 1
                    board.restart()
    except EmulatorError as e:
        if raise_errors:
            raise
        echo("error: %s" % e)
        return 1
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 0


def describe_speed(speed: dict[str, Any]) -> str:
    """One line: the clock factor and, when calibrated, where it came from."""
    if "kernel_us" not in speed:
        return "board clock = CPU time x %.3g" % speed["factor"]
    return (
        "board clock = CPU time x %.3g (%s: %gx the unix port; speed kernel %.0f us here, %.0f us on the "
        "unix port)"
        % (speed["factor"], speed.get("board", "board"), speed["board_factor"], speed["kernel_us"],
           speed["unix_kernel_us"])
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="emuboard", description=run_emulator.__doc__)
    ap.add_argument("--flash", default="out/emuboard-flash", help="host directory holding the board's flash")
    ap.add_argument("--link", help="symlink to create for the console pty")
    ap.add_argument("--uart-link", help="symlink to create for the UART pty")
    ap.add_argument("--uart-tcp", type=int, help="also serve the UART on 127.0.0.1:PORT (0 = any)")
    ap.add_argument("--virtual-clock", action="store_true", help="ticks_ms moves only by sleeps and ticks")
    ap.add_argument("--heap-kb", type=int, default=192, help="first GC heap area (the heap still grows)")
    ap.add_argument("--flash-kb", type=int, default=2048, help="flash size shown by os.statvfs")
    ap.add_argument(
        "--board", help="keep this board's speed (rp2040, stm32f4, ...): clock = CPU time x factor"
    )
    ap.add_argument("--speed-factor", type=float, help="board clock = CPU time x this factor")
    ap.add_argument("--rom-kb", type=int, default=0, help="a ROMFS partition of this size (0: none)")
    a = ap.parse_args(argv)
    return run_emulator(
        a.flash,
        link=a.link,
        uart_link=a.uart_link,
        uart_tcp=a.uart_tcp,
        virtual_clock=a.virtual_clock,
        heap_kb=a.heap_kb,
        flash_kb=a.flash_kb,
        board_speed=a.board,
        speed_factor=a.speed_factor,
        rom_kb=a.rom_kb,
    )


if __name__ == "__main__":
    sys.exit(main())
