"""Commands for firmware on boards, real and emulated: `build` (bundles), `heap` (the heap each board
needs) and `emulate` (the emulated MicroPython dev board). Flashing is in ground/cli/flash.py."""

from __future__ import annotations

import sys

import click

from ground.cli.files import write_output
from ground.cli.options import Finite


@click.command()
@click.option(
    "--board",
    required=True,
    help="Target board (rp2040, stm32f4, stm32f7, samd51, esp32, esp32c3, emulated).",
)
@click.option("--out", default="dist", show_default=True, help="Output folder; the bundle goes to OUT/BOARD.")
def build(board: str, out: str) -> None:
    """Compile flight, hal and protocols to .mpy for a board and write the bundle manifest."""
    from pathlib import Path

    from firmware_builds.boards import TARGETS
    from firmware_builds.build import BuildError
    from firmware_builds.build import build as do_build

    if board not in TARGETS:
        raise click.BadParameter(
            "unknown board %r; known: %s" % (board, ", ".join(sorted(TARGETS))), param_hint="--board"
        )
    try:
        manifest = do_build(board, Path(out))
    except BuildError as exc:
        raise click.ClickException("build failed: %s" % exc) from None
    except OSError as exc:  # --out onto a file, a read-only folder: one line, no traceback
        raise click.ClickException(
            "build failed: %s: %s" % (exc.filename or out, exc.strerror or exc)
        ) from None
    total = sum(f["size"] for f in manifest["files"].values())
    click.echo(
        "%s: %d modules, %d bytes, .mpy v%d, revision %s -> %s"
        % (
            board,
            len(manifest["files"]),
            total,
            manifest["target"]["mpy_version"],
            manifest["git_revision"],
            Path(out) / board,
        )
    )


@click.command()
@click.option(
    "--minutes", default=30.0, show_default=True, help="Simulated minutes to fly on the emulated board."
)
@click.option(
    "--write", is_flag=True, help="Record the needs in firmware_builds/heap_needed.json (manifests)."
)
@click.option("--json", "json_out", help="Also write the figures and the per-board table to this JSON file.")
def heap(minutes: float, write: bool, json_out: str | None) -> None:
    """Measure the flight application's heap per board on the emulated (32-bit) board."""
    import datetime
    import json
    import tempfile
    from pathlib import Path

    from rich.console import Console
    from rich.table import Table

    from board_tools import board_heap, board_heap_targets
    from firmware_builds.boards import HEAP_FILE, TARGETS
    from firmware_builds.build import BuildError

    if not 0 < minutes <= 24 * 60:
        raise click.BadParameter("must be in 0..1440, got %s" % minutes, param_hint="--minutes")
    console = Console()
    with tempfile.TemporaryDirectory(prefix="cubesat-heap-") as work:
        try:
            figures = board_heap_targets.measure_targets(
                Path(work), minutes, progress=lambda m: console.print(m)
            )
        except (BuildError, board_heap.HeapMeasureError) as exc:
            raise click.ClickException(str(exc)) from None
    rows = board_heap_targets.budget_table(figures, TARGETS)
    f = figures
    console.print(
        "flight %d B live (boot %d, %d before the boot code is released), worst tick %d B (the "
        "first after boot %d B), simulator %d B; %d ticks, %d/%d commands verified; a full TM "
        "queue (radio down) adds %d B; a file transfer %d B, staging an update %d B; the health "
        "report (boot_select imported again) %d B"
        % (
            f.flight,
            f.flight_boot,
            f.boot_peak,
            f.worst_tick,
            f.first_tick,
            f.sim,
            f.ticks,
            f.commands_verified,
            f.commands_sent,
            f.tm_queue_full,
            f.transfer,
            f.update,
            f.mark_good,
        )
    )
    table = Table("bundle", "budget", "needs", "spare", "queue full", "file/update", "loads", "budget source")
    for r in rows:
        spare = "[%s]%.0f%%[/]" % ("green" if r["fits"] else "red", 100 * r["spare"])
        t = TARGETS[r["target"]]
        loads = (".mpy + ROMFS" if t.get("romfs") else ".mpy") if t["from_mpy"] else "frozen"
        worst = "[%s]%d[/]" % ("green" if r["worst_fits"] else "red", r["worst"])
        busy = "[%s]%d[/]" % ("green" if r["busy_fits"] else "red", r["busy"])
        table.add_row(
            r["target"], "%d" % r["budget"], "%d" % r["need"], spare, worst, busy, loads, r["source"]
        )
    console.print(table)
    if json_out:
        write_output(
            json_out, json.dumps({"figures": f.as_dict(), "boards": rows}, indent=1) + "\n", "--json"
        )
    if write:
        board_heap_targets.write_record(HEAP_FILE, f, TARGETS, minutes, datetime.date.today().isoformat())
        console.print("recorded in %s: rebuild the bundles to carry it" % HEAP_FILE)


@click.command()
@click.option(
    "--flash",
    default="out/emuboard-flash",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Host directory holding the board's flash.",
)
@click.option("--link", type=click.Path(dir_okay=False), help="Also create this symlink to the console pty.")
@click.option(
    "--uart-link", type=click.Path(dir_okay=False), help="Symlink to create for the flight-UART pty."
)
@click.option(
    "--uart-tcp", type=int, default=None, help="Also serve the flight UART on 127.0.0.1:PORT (0 = any)."
)
@click.option("--virtual-clock", is_flag=True, help="ticks_ms moves only by sleeps and main-loop ticks.")
@click.option(
    "--heap-kb", default=192, show_default=True, help="First GC heap area in KiB (the heap still grows)."
)
@click.option(
    "--flash-kb", default=2048, show_default=True, help="Flash size reported by os.statvfs (mpremote df)."
)
@click.option(
    "--board",
    "board_speed",
    help="Keep this board's speed (rp2040, stm32f4, stm32f7, samd51): the board clock advances by CPU "
    "time x a factor calibrated at start-up (docs/board-speed.md).",
)
@click.option(
    "--speed-factor",
    type=Finite(0.0, 1e6, min_open=True),
    default=None,
    help="Board clock = CPU time of the Python code x this factor.",
)
@click.option(
    "--rom-kb",
    type=click.IntRange(0, 16384),
    default=0,
    show_default=True,
    help="A ROMFS partition of this size, as a stock firmware's (samd51: 64): `cubesat flash deploy` "
    "writes a bundle's romfs.img there, and its .mpy run in place.",
)
def emulate(
    flash: str,
    link: str | None,
    uart_link: str | None,
    uart_tcp: int | None,
    virtual_clock: bool,
    heap_kb: int,
    flash_kb: int,
    board_speed: str | None,
    speed_factor: float | None,
    rom_kb: int,
) -> None:
    """Run the emulated MicroPython dev board (real MicroPython, WebAssembly) until Ctrl-C.

    Exit status: 0 stopped by Ctrl-C, 1 could not start (no node, busy port, unusable flash
    folder) or kept crashing."""
    from board_tools.emuboard import EmulatorError
    from board_tools.emuboard_run import run_emulator

    try:
        rc = run_emulator(
            flash,
            link=link,
            uart_link=uart_link,
            uart_tcp=uart_tcp,
            virtual_clock=virtual_clock,
            heap_kb=heap_kb,
            flash_kb=flash_kb,
            echo=click.echo,
            raise_errors=True,
            board_speed=board_speed,
            speed_factor=speed_factor,
            rom_kb=rom_kb,
        )
    except EmulatorError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            "emulate: %s%s" % (exc.strerror or exc, " (%s)" % exc.filename if exc.filename else "")
        ) from None
    sys.exit(rc)
