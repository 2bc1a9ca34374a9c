"""`cubesat`: the one command operators and test engineers use.

Subcommands are added as the ground segment grows (twin, send, watch, archive,
dict, build, flash, bench, emulate); each has --help.
"""

from __future__ import annotations

import errno
import math
import sys

import click

from flight.dictionary import APID
from ground import DEFAULT_SCID, __version__
from ground.bench import bench
from ground.passes_cli import contact_options, contact_summary, passes

EXIT_SOFTWARE = 70  # sysexits.h EX_SOFTWARE: an error no command handled (a bug, or the host)
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: whoever read the output went away (`| head`)


class _CubesatGroup(click.Group):
    """The `cubesat` group: whatever escapes a command becomes one line and a documented exit code.

    This is the safety net; commands handle the errors they expect where they happen, with a
    message that says what to do. --debug prints the traceback as well.
    """

    LAZY = {"archive": ("ground.archive_cli", "archive")}  # groups in their own modules

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.LAZY))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY and name not in self.commands:
            import importlib

            module, attr = self.LAZY[name]
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            _traceback_if(ctx)
            click.echo("interrupted (Ctrl-C)", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            try:  # nothing more can reach the reader; keep Python from complaining at exit
                import os

                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError, AttributeError):
                pass
            ctx.exit(EXIT_BROKEN_PIPE)
        except Exception as exc:
            _traceback_if(ctx)
            click.echo("error: %s" % _unexpected(exc, bool(ctx.params.get("debug"))), err=True)
            ctx.exit(EXIT_SOFTWARE)


def _traceback_if(ctx: click.Context) -> None:
    if ctx.params.get("debug"):
        import traceback

        traceback.print_exc()


def _unexpected(exc: BaseException, debug: bool) -> str:
    """One line for an exception no command handled: what happened; what to do."""
    what = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError):
        if exc.strerror and exc.filename:
            what = "%s: %s" % (exc.strerror, exc.filename)
        todo = "check the path or link, its permissions and free space"
    else:
        what = "%s: %s" % (type(exc).__name__, what)
        todo = "this is a bug in cubesat, please report it with the traceback"
    return "%s; %s%s" % (what, todo, "" if debug else " (rerun as `cubesat --debug ...` to see it)")


def _os_hint(exc: OSError) -> str:
    """What to do about an OSError from opening a file or folder."""
    if exc.errno == errno.ENOENT:
        return "create the folder first or choose another path"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "choose a place you can write to"
    if exc.errno == errno.EISDIR:
        return "give a file name, not a folder"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "a file is in the way of a folder; choose another path"
    if exc.errno == errno.ENOSPC:
        return "free some disk space"
    return "choose another path"


def _write_output(path: str, data: str | bytes, what: str) -> None:
    """Write an output file; a missing folder or a read-only place is one line, not a traceback."""
    try:
        with open(path, "wb" if isinstance(data, bytes) else "w") as fh:
            fh.write(data)
    except OSError as exc:
        raise click.ClickException(
            "cannot write %s to %s: %s; %s" % (what, path, exc.strerror or exc, _os_hint(exc))
        ) from None


def _writable_dir(path: str, option: str) -> None:
    """Create the output folder if needed and check it takes files, before any work is done."""
    import tempfile
    from pathlib import Path

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except FileExistsError:
        raise click.ClickException("%s %s is a file, not a folder; give a folder" % (option, path)) from None
    except OSError as exc:
        raise click.ClickException(
            "%s %s: cannot write there (%s); %s" % (option, path, exc.strerror or exc, _os_hint(exc))
        ) from None


class _Finite(click.FloatRange):
    """A float range that also refuses nan and inf (click's FloatRange lets nan through)."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail("%r is not a finite number" % value, param, ctx)
        return rv


@click.group(cls=_CubesatGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cubesat")
@click.option(
    "--debug",
    is_flag=True,
    envvar="CUBESAT_DEBUG",
    help="Print the Python traceback of an error no command handled (env CUBESAT_DEBUG=1).",
)
@click.option("--verbose", "-v", is_flag=True, help="Log what the command does to stderr (debug level).")
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False),
    envvar="CUBESAT_LOG_FILE",
    help="Append a structured log (one JSON object per line) to this file (env CUBESAT_LOG_FILE).",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, verbose: bool = False, log_file: str | None = None) -> None:
    """Ground segment for cubesat-fsw: link, telemetry and test tools.

    Errors are one line on stderr that says what to do. Exit codes, for every command
    (`send`, `bench run` and `flash deploy` give more detail in their own --help):

    \b
      0    success
      1    the command failed; the line says why (send: link down)
      2    bad usage: unknown option, missing file, value out of range
      70   error no command handled (a bug, or the host: disk, permissions);
           `cubesat --debug COMMAND ...` prints the traceback
      130  interrupted (Ctrl-C)
      141  the reader of the output went away (`| head`)
    """
    if verbose or log_file:
        _setup_logging(ctx, verbose, log_file)


def _setup_logging(ctx: click.Context, verbose: bool, log_file: str | None) -> None:
    """--verbose: the cubesat.* loggers to stderr; --log-file: JSON lines. Removed when the command ends."""
    import logging

    from ground.server.logs import JsonLines

    handlers: list[logging.Handler] = []
    if verbose:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handlers.append(err)
    if log_file:
        try:
            fh = logging.FileHandler(log_file)
        except OSError as exc:
            raise click.ClickException(
                "cannot write --log-file %s: %s; %s" % (log_file, exc.strerror or exc, _os_hint(exc))
            ) from None
        fh.setFormatter(JsonLines())
        handlers.append(fh)
    root = logging.getLogger("cubesat")
    old_level = root.level
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in handlers:
        root.addHandler(handler)

    def remove() -> None:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(old_level)

    ctx.call_on_close(remove)
    logging.getLogger("cubesat.cli").info(
        "cubesat %s", " ".join(sys.argv[1:]), extra={"fields": {"argv": sys.argv[1:]}}
    )


@main.command()
@click.option(
    "--seconds",
    default=5400,
    type=click.IntRange(min=1),
    show_default=True,
    help="Simulated duration (one orbit by default).",
)
@click.option(
    "--ber",
    default=2e-4,
    type=_Finite(0.0, 0.5),
    show_default=True,
    help="Channel bit error rate (downlink and uplink).",
)
@click.option(
    "--interleave",
    default=5,
    type=click.Choice(["1", "2", "3", "4", "5", "8"]),
    show_default=True,
    help="RS interleaving depth of the downlink.",
)
@click.option("--seed", default=1, show_default=True, help="Random seed of the channel noise.")
@click.option(
    "--out", default="out", show_default=True, help="Folder for the archive (SQLite) and the PNG plot."
)
@click.option(
    "--link",
    "link",
    default="uart",
    type=click.Choice(["uart", "lora"]),
    show_default=True,
    help="uart: the wired byte link; lora: the board's SX1276 on the simulated radio, one 255-byte "
    "CADU per packet (RS I=1, shortened frames), with LoRa time on air.",
)
def mission(seconds: int, ber: float, interleave: str, seed: int, out: str, link: str) -> None:
    """Fly an emulated pass through the full space link and print telemetry and link statistics."""
    from pathlib import Path

    from ground.mission import run_mission

    _writable_dir(out, "--out")  # before the pass is flown, not after
    for name in ("mission.sqlite", "mission.png"):
        if (Path(out) / name).is_dir():
            raise click.ClickException(
                "--out %s: %s is a folder; remove it or give another --out" % (out, name)
            )
    if (
        link == "lora"
        and interleave != "1"
        and click.get_current_context().get_parameter_source("interleave")
        == click.core.ParameterSource.COMMANDLINE
    ):
        raise click.BadParameter(
            "the LoRa profile fixes I=1 (one codeblock per packet)", param_hint="--interleave"
        )
    ok = run_mission(seconds=seconds, ber=ber, interleave=int(interleave), seed=seed, out_dir=out, link=link)
    sys.exit(0 if ok else 1)


@main.command()
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


@main.command()
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

    from firmware_builds.boards import HEAP_FILE, TARGETS
    from firmware_builds.build import BuildError
    from ground import board_heap

    if not 0 < minutes <= 24 * 60:
        raise click.BadParameter("must be in 0..1440, got %s" % minutes, param_hint="--minutes")
    console = Console()
    with tempfile.TemporaryDirectory(prefix="cubesat-heap-") as work:
        try:
            figures = board_heap.measure_targets(Path(work), minutes, progress=lambda m: console.print(m))
        except (BuildError, board_heap.HeapMeasureError) as exc:
            raise click.ClickException(str(exc)) from None
    rows = board_heap.budget_table(figures, TARGETS)
    f = figures
    console.print(
        "flight %d B live (boot %d), worst tick %d B (the first after boot %d B), simulator %d B; "
        "%d ticks, %d/%d commands verified; a full TM queue (radio down) adds %d B"
        % (
            f.flight,
            f.flight_boot,
            f.worst_tick,
            f.first_tick,
            f.sim,
            f.ticks,
            f.commands_verified,
            f.commands_sent,
            f.tm_queue_full,
        )
    )
    table = Table("bundle", "budget", "needs", "spare", "queue full", "loads", "budget source")
    for r in rows:
        spare = "[%s]%.0f%%[/]" % ("green" if r["fits"] else "red", 100 * r["spare"])
        loads = ".mpy" if TARGETS[r["target"]]["from_mpy"] else "frozen"
        worst = "[%s]%d[/]" % ("green" if r["worst_fits"] else "red", r["worst"])
        table.add_row(r["target"], "%d" % r["budget"], "%d" % r["need"], spare, worst, loads, r["source"])
    console.print(table)
    if json_out:
        _write_output(
            json_out, json.dumps({"figures": f.as_dict(), "boards": rows}, indent=1) + "\n", "--json"
        )
    if write:
        board_heap.write_record(HEAP_FILE, f, TARGETS, minutes, datetime.date.today().isoformat())
        console.print("recorded in %s: rebuild the bundles to carry it" % HEAP_FILE)


@main.group("dict")
def dictionary() -> None:
    """The command and telemetry dictionary (from flight/dictionary.py)."""


@dictionary.command("commands")
def dict_commands() -> None:
    """List commands with their arguments, ranges and hazard flags."""
    from rich.console import Console
    from rich.table import Table

    from flight.dictionary import COMMANDS
    from ground.dictionary import command

    table = Table(title="Commands")
    for col in ("name", "PUS", "arguments", "hazardous", "description"):
        table.add_column(col)
    for name in sorted(COMMANDS):
        c = command(name)
        args = ", ".join(
            "%s:%s[%s]" % (a[0], a[1], "|".join(a[3]) if a[1] == "enum" else "%s..%s" % (a[2], a[3]))
            if a[2] is not None or a[1] == "enum"
            else "%s:%s" % (a[0], a[1])
            for a in c.args
        )
        pus = "%d,%d" % (c.service, c.subtype) + (" f%d" % c.function_id if c.function_id is not None else "")
        table.add_row(name, pus, args or "-", "[red]yes[/]" if c.hazardous else "no", c.description)
    Console().print(table)


@dictionary.command("telemetry")
def dict_telemetry() -> None:
    """List telemetry parameters with units and limits."""
    from flight.dictionary import TELEMETRY

    for name in sorted(TELEMETRY):
        unit, ylo, yhi, rlo, rhi, desc = TELEMETRY[name]
        click.echo("%-10s %-6s yellow %s..%s red %s..%s  %s" % (name, unit or "-", ylo, yhi, rlo, rhi, desc))


@dictionary.command("params")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def dict_params(fmt: str, out: str | None) -> None:
    """List the onboard parameters (PUS-20): id, name, default, range, unit, description.

    `send param_get param_id=NAME` takes the name or the id."""
    import csv
    import io
    import json

    from flight.dictionary import PARAMS

    rows = [
        {"id": pid, "name": name, "default": default, "min": lo, "max": hi, "unit": unit, "description": desc}
        for pid, (name, default, lo, hi, unit, desc) in sorted(PARAMS.items())
    ]
    if fmt == "json":
        text = json.dumps(rows, indent=1) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    else:
        cells = [["id", "name", "default", "range", "unit", "description"]] + [
            [str(r["id"]), r["name"], "%g" % r["default"], "%g..%g" % (r["min"], r["max"]), r["unit"] or "-",
             r["description"]]
            for r in rows
        ]  # fmt: skip
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        text = "\n".join(lines) + "\n"
    if out:
        _write_output(out, text, "the parameter table")
        click.echo("%d parameters written to %s" % (len(rows), out), err=True)
    else:
        click.echo(text, nl=False)


@dictionary.command("xtce")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
def dict_xtce(output: str | None) -> None:
    """Export the dictionary as XTCE 1.2 XML."""
    from ground.dictionary import to_xtce

    xml = to_xtce()
    if output:
        _write_output(output, xml, "the XTCE file")
        click.echo("XTCE written to %s" % output, err=True)
    else:
        click.echo(xml)


def _udp_port(default: int, what: str) -> dict:
    return {
        "type": click.IntRange(1, 65535),
        "default": default,
        "show_default": True,
        "help": "UDP port %s." % what,
    }


@dictionary.command("yamcs")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--scid", type=click.IntRange(0, 1023), default=DEFAULT_SCID, show_default=True)
@click.option(
    "--interleave", type=click.Choice(["1", "2", "3", "4", "5", "8"]), default="5", show_default=True
)
@click.option("--http-port", type=click.IntRange(1, 65535), default=8090, show_default=True)
@click.option("--tm-frames-port", **_udp_port(10015, "where Yamcs takes TM frames from the ground server"))
@click.option("--tm-packets-port", **_udp_port(10016, "where Yamcs takes PUS packets"))
@click.option("--tc-port", **_udp_port(10025, "of the ground server where Yamcs sends its telecommands"))
def dict_yamcs(
    folder: str, scid: int, interleave: str, http_port: int, tm_frames_port: int, tm_packets_port: int,
    tc_port: int,
) -> None:  # fmt: skip
    """Write a ready Yamcs instance (config, links, XTCE mission database) into FOLDER."""
    import shlex
    from pathlib import Path

    from ground.yamcs_instance import YamcsPorts, java_command, write_instance

    ports = YamcsPorts(http_port, tm_frames_port, tm_packets_port, tc_port)
    try:
        etc = write_instance(Path(folder), ports, scid, int(interleave))
    except OSError as exc:
        raise click.ClickException(
            "cannot write the Yamcs instance to %s: %s" % (folder, exc.strerror or exc)
        ) from None
    click.echo("Yamcs instance written to %s" % etc.parent)
    try:
        click.echo("check it:    %s confcheck" % shlex.join(java_command(etc, "org.yamcs.cli.YamcsAdminCli")))
        click.echo("start it:    %s" % shlex.join(java_command(etc)))
    except FileNotFoundError as exc:
        click.echo("start it:    %s" % exc)
    click.echo("web console: http://127.0.0.1:%d" % http_port)
    click.echo("ground server [[spacecraft]] with scid = %d:" % scid)
    click.echo('  yamcs = { tm_frames = "127.0.0.1:%d", tc_port = %d }' % (tm_frames_port, tc_port))


def _read_key(path: str | None, option: str = "--key-file") -> bytes | None:
    """A key from a file of hex digits; its bytes are never echoed."""
    if path is None:
        return None
    try:
        with open(path) as fh:
            key = bytes.fromhex(fh.read().strip())
    except ValueError:
        raise click.BadParameter("key file must hold hex digits", param_hint=option) from None
    except OSError as exc:
        raise click.BadParameter(
            "cannot read %s: %s" % (path, exc.strerror or exc), param_hint=option
        ) from None
    if len(key) < 16:
        raise click.BadParameter("key must be at least 16 bytes", param_hint=option)
    return key


UNKEYED_BANNER = (
    "twin: UNKEYED (--insecure): telecommands are NOT authenticated; anyone who reaches the link "
    "can command the spacecraft, hazardous and admin commands included"
)


@main.command()
@click.option(
    "--port",
    default=5555,
    type=click.IntRange(0, 65535),
    show_default=True,
    help="TCP port on 127.0.0.1 (0: any free port).",
)
@click.option("--pty", "use_pty", is_flag=True, help="Expose the link as a pseudo-terminal instead of TCP.")
@click.option(
    "--speed",
    default=1.0,
    type=_Finite(0.0, 100_000.0, min_open=True),
    show_default=True,
    help="Mission time per wall-clock second.",
)
@click.option(
    "--seconds", type=_Finite(0.0, min_open=True), default=None, help="Stop after this much mission time."
)
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Authenticate TC frames (SDLS HMAC-SHA256, SPI 1) with the key in this file (hex); needs --flash.",
)
@click.option(
    "--admin-key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Admin key (SPI 2): only frames under it may run admin commands (time_set, rekey).",
)
@click.option(
    "--insecure", is_flag=True, help="Run without authentication (no --key-file): an explicit choice."
)
@click.option(
    "--flash",
    type=click.Path(file_okay=False),
    help="Folder for the flight software's files (parameters, schedule, logs, keys); kept across runs.",
)
@click.option(
    "--board-speed",
    default=None,
    help="Keep a board's time: a board (rp2040, stm32f4, ...; calibrated at start-up) or a factor. "
    "Tasks are timed at CPU time x the factor, so slow rate groups report OVERRUN (docs/board-speed.md).",
)
@click.option(
    "--scid",
    default=DEFAULT_SCID,
    type=click.IntRange(0, 1023),
    show_default=True,
    help="Spacecraft ID: TC frames for another are ignored.",
)
@contact_options
def twin(
    port: int,
    use_pty: bool,
    speed: float,
    seconds: float | None,
    key_file: str | None,
    admin_key_file: str | None,
    insecure: bool,
    flash: str | None,
    board_speed: str | None,
    scid: int = DEFAULT_SCID,
    tle=None,  # ground.passes.Tle, from --tle
    station=None,  # ground.passes.Station, from --station
    start: str = "epoch",
) -> None:
    """Run the flight software on the simulated spacecraft, its space link on TCP or a pty.

    Keyed (--key-file KEY --flash DIR: the anti-replay window lives in the flash) or, as an
    explicit choice, --insecure. --tle flies a TLE's orbit (from --start); with --station too, the
    link is up only in contact (`cubesat passes` lists the passes). Exit codes: 0 stopped, 1 cannot start
    (busy port or flash folder, bad key), 2 usage.
    """
    import logging

    from ground.twin import TwinError, TwinServer

    if key_file is None and not insecure:
        raise click.UsageError(
            "choose --key-file KEY --flash DIR (authenticated telecommands) or --insecure (none)"
        )
    if key_file is not None and insecure:
        raise click.UsageError("--insecure and --key-file contradict each other")
    if admin_key_file is not None and key_file is None:
        raise click.UsageError("--admin-key-file needs --key-file (the operators' key) too")
    if key_file is not None and flash is None:
        raise click.UsageError(
            "a keyed twin needs --flash DIR: its anti-replay window must survive restarts, "
            "or a captured command could be replayed"
        )
    start_unix = None
    if start.strip().lower() != "epoch":
        from ground.passes import PassError, parse_time

        if tle is None:
            raise click.UsageError("--start needs --tle (the orbit it starts)")
        try:
            start_unix = parse_time(start, tle)
        except PassError as exc:
            raise click.BadParameter(str(exc), param_hint="--start") from None
    key = _read_key(key_file)
    admin_key = _read_key(admin_key_file, "--admin-key-file")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    factor = None
    if board_speed is not None:
        from ground.board_speed import BoardSpeedError, twin_speed

        try:
            calibration = twin_speed(board_speed)
        except BoardSpeedError as exc:
            raise click.BadParameter(str(exc), param_hint="--board-speed") from None
        factor = float(calibration["factor"])  # type: ignore[arg-type]
        click.echo(
            "twin: board clock = CPU time x %.3g%s"
            % (
                factor,
                " (%s: %gx the unix port; speed kernel %.0f us here, %.0f us on the unix port)"
                % (
                    calibration["board"],
                    calibration["board_factor"],
                    calibration["kernel_us"],
                    calibration["unix_kernel_us"],
                )
                if "board" in calibration
                else "",
            ),
            err=True,
        )
    try:
        server = TwinServer(
            port=port,
            use_pty=use_pty,
            speed=speed,
            key=key,
            admin_key=admin_key,
            flash_dir=flash,
            board_speed=factor,
            scid=scid,
            tle=tle,
            station=station,
            start_unix=start_unix,
        )
    except TwinError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            "cannot open the link (%s): %s" % ("pty" if use_pty else "port %d" % port, exc.strerror or exc)
        ) from None
    where = server.pty_path if use_pty else "tcp://127.0.0.1:%d" % server.port
    try:  # from here on Ctrl-C is the normal way to stop: exit 0
        if key is None:
            click.secho(UNKEYED_BANNER, err=True, fg="red", bold=True)
        else:
            click.echo(
                "twin: telecommands authenticated (SDLS SPI 1%s)" % (", admin SPI 2" if admin_key else ""),
                err=True,
            )
        click.echo("twin: link at %s (SCID %d, speed x%g); Ctrl-C stops" % (where, scid, speed), err=True)
        for line in contact_summary(tle, station, start_unix):
            click.echo(line, err=True)
        server.serve(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _server_options(f):  # type: ignore[no-untyped-def]
    """--server/--token-file/--config/--spacecraft: use a running `cubesat ground` server."""
    f = click.option(
        "--spacecraft", help="With a server: the spacecraft's name in its config (default: its only one)."
    )(f)
    f = click.option(
        "--config",
        type=click.Path(exists=True, dir_okay=False),
        help="A ground.toml whose [client] table names the server and token file.",
    )(f)
    f = click.option(
        "--token-file",
        type=click.Path(exists=True, dir_okay=False),
        help="File holding your server token (else $CUBESAT_TOKEN).",
    )(f)
    return click.option(
        "--server",
        envvar="CUBESAT_SERVER",
        help="Ground server URL (e.g. http://127.0.0.1:8700): go through it instead of the link.",
    )(f)


def _resolve_server(server: str | None, token_file: str | None, config: str | None):  # type: ignore[no-untyped-def]
    from ground.server.cli_client import resolve
    from ground.server.errors import ConfigError

    try:
        return resolve(server, token_file, config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _watch_server(
    url: str, token: str | None, spacecraft: str | None, seconds: float, as_json: bool, scid: int | None
) -> None:
    from ground.server import cli_client
    from ground.server.errors import ClientError

    try:
        seen, missed = cli_client.watch(url, token, spacecraft, seconds, as_json, click.echo, scid)
    except ClientError as exc:
        raise click.ClickException("ground server: %s" % exc) from None
    lost = ", %d missed" % missed if missed else ""
    click.echo("watch: %d packets from %s%s" % (seen, url, lost), err=True)
    if not seen:
        raise click.ClickException("no telemetry from the ground server in %g s" % seconds)


@main.group(invoke_without_command=True)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    help="ground.toml: links, archive, log file, users (see docs/ground-server.md).",
)
@click.option("--verbose", "-v", is_flag=True, help="Debug-level entries in the log file.")
@click.pass_context
def ground(ctx: click.Context, config: str | None, verbose: bool) -> None:
    """Run the ground server: it owns the spacecraft links, archives everything, serves the API.

    `cubesat ground --config ground.toml` runs until Ctrl-C. `send` and `watch` then go through
    it with --server URL. Exit codes: 0 stopped, 1 cannot start (config, port, link, archive).
    """
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        raise click.UsageError("give --config ground.toml (docs/ground-server.md shows one)")
    from ground.server.config import load_config
    from ground.server.errors import GroundServerError
    from ground.server.server import GroundServer

    try:
        server = GroundServer(load_config(config), verbose=verbose)
    except GroundServerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        "ground: %d link(s) %s; archive %s; log %s"
        % (len(server.links), ", ".join(sorted(server.links)), server.config.archive, server.config.log_file),
        err=True,
    )
    try:
        server.serve(lambda url: click.echo("ground: API at %s; Ctrl-C stops" % url, err=True))
    except GroundServerError as exc:
        raise click.ClickException(str(exc)) from None


@ground.command("token")
@click.argument("user")
def ground_token(user: str) -> None:
    """Make a token for USER: the token (give it to them) and the token_hash line for the config."""
    from ground.server.auth import new_token
    from ground.server.config import USER_NAME

    if not USER_NAME.fullmatch(user):
        raise click.BadParameter("must be 1-64 letters, digits, - or _ (got %r)" % user, param_hint="USER")
    token, line = new_token(user)
    click.echo("token (shown once): %s" % token)
    click.echo("config line for [[users]] name = %r: %s" % (user, line))


def _time_option(name: str, help_text: str):  # type: ignore[no-untyped-def]
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
        if value is None:
            return None
        from ground.server.history import TimeError, parse_time

        try:
            return parse_time(value)
        except TimeError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option(name, callback=convert, help=help_text)


def _history_options(f):  # type: ignore[no-untyped-def]
    """What `history` and `events` share: the time range, the spacecraft, the format, the source."""
    for opt in reversed(
        [
            _time_option("--since", "From this time, inclusive: ISO 8601 (UTC by default), -2h, -30m, -7d."),
            _time_option("--until", "Up to this time, exclusive (same forms as --since)."),
            click.option("--spacecraft", help="Only this spacecraft: its name in the config, or its SCID."),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["table", "csv", "json"]),
                default="table",
                show_default=True,
            ),
            click.option(
                "--out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout."
            ),
            click.option(
                "--limit",
                default=1000,
                type=click.IntRange(1),
                show_default=True,
                help="At most this many rows (any number: read 10000 at a time).",
            ),
            click.option(
                "--after",
                default=0,
                type=click.IntRange(0),
                help="Only rows with an id above this one: the cursor a cut listing prints.",
            ),
            click.option(
                "--archive",
                "archive_path",
                type=click.Path(dir_okay=False),
                help="The ground server's archive file (SQLite), read directly.",
            ),
            click.option(
                "--config",
                type=click.Path(exists=True, dir_okay=False),
                help="ground.toml: its [server] archive (and spacecraft names) are read directly.",
            ),
            click.option(
                "--server",
                envvar="CUBESAT_SERVER",
                help="Ask a running ground server instead (URL; $CUBESAT_SERVER); token from "
                "$CUBESAT_TOKEN or --token-file.",
            ),
            click.option(
                "--token-file",
                type=click.Path(exists=True, dir_okay=False),
                help="File holding your server token.",
            ),
        ]
    ):
        f = opt(f)
    return f


def _history(what: str, opts: dict) -> None:
    """Rows of `what` ("commands" or "events") from the archive or the server, formatted and written."""
    import logging

    from ground.server import history as h
    from ground.server.errors import ClientError, ConfigError

    since, until = opts["since"], opts["until"]
    if since is not None and until is not None and until <= since:
        raise click.BadParameter("--until must be after --since", param_hint="--until")
    try:
        cfg = None
        if opts["config"] is not None:
            from ground.server.config import load_config

            cfg = load_config(opts["config"])
        names = {sc.scid: sc.name for sc in cfg.spacecraft} if cfg is not None else {}
        if opts["archive_path"] is not None or (opts["server"] is None and cfg is not None):
            path = opts["archive_path"] or cfg.archive  # type: ignore[union-attr]
            src, scid = h.archive_source(path, names, opts["spacecraft"])
            where = path
        elif opts["server"] is not None:
            _url, token = _resolve_server(opts["server"], opts["token_file"], None)
            src, scid = h.server_source(opts["server"], token, opts["spacecraft"])
            where = opts["server"]
        else:
            raise click.UsageError(
                "give --archive FILE (the server's archive), --config ground.toml or --server URL"
            )
        try:
            rows, cursor = src.fetch(what, since or 0.0, until, scid, opts["limit"], opts["after"])
        finally:
            src.close()  # type: ignore[attr-defined]
    except ClientError as exc:
        raise click.ClickException("ground server: %s" % exc) from None
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    logging.getLogger("cubesat.cli").debug("%s: %d rows from %s", what, len(rows), where)
    if what == "commands":
        text = h.format_commands(h.command_rows(rows, src.names), opts["fmt"])
    else:
        text = h.format_events(h.event_rows(rows, src.names), opts["fmt"])
    more = "" if cursor is None else " (more: go on with --after %d, or raise --limit)" % cursor
    if opts["out"]:
        _write_output(opts["out"], text, "the %s" % what)
        click.echo("%d %s written to %s%s" % (len(rows), what, opts["out"], more), err=True)
    else:
        click.echo(text, nl=False)
        if not rows and opts["fmt"] == "table":
            click.echo("no %s in that range" % what, err=True)
        elif more:
            click.echo("%d %s%s" % (len(rows), what, more), err=True)


@main.command()
@_history_options
def history(**opts: object) -> None:
    """Commands sent through the ground server: user, each verification stage with its time, final
    status and the board's failure reason.

    Reads the server's archive (--archive, or --config's [server] archive) or asks the running
    server (--server or $CUBESAT_SERVER). Exit codes: 0 listed (maybe none), 1 no such archive,
    unknown spacecraft or server error, 2 bad usage (a time that is not one, --until before --since).
    """
    _history("commands", opts)


@main.command()
@_history_options
def events(**opts: object) -> None:
    """PUS-5 events the ground server received, with their severity (1 info .. 4 high) and text.

    Sources and exit codes as for `cubesat history`.
    """
    _history("events", opts)


@main.command()
@click.argument("name")
@click.argument("args", nargs=-1)
@click.option(
    "--link",
    "url",
    default="tcp://127.0.0.1:5555",
    show_default=True,
    help="Link URL (tcp://, socket://, a pty path).",
)
@click.option(
    "--role", type=click.Choice(["viewer", "operator", "admin"]), default="operator", show_default=True
)
@click.option("--confirm", is_flag=True, help="Required to send a hazardous command.")
@click.option(
    "--timeout",
    default=10.0,
    type=_Finite(0.0, 3600.0, min_open=True),
    show_default=True,
    help="Seconds to wait for verification.",
)
@click.option("--apid", default=APID, type=click.IntRange(0, 2047), show_default=True)
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Authenticate the command (SDLS HMAC-SHA256) with the key in this file (hex); its "
    "anti-replay counter is kept beside it in KEY_FILE.sn.",
)
@click.option(
    "--spi",
    default=1,
    type=click.IntRange(1, 65534),
    show_default=True,
    help="Security association of the key: 1 operators, 2 admin.",
)
@click.option(
    "--scid",
    type=click.IntRange(0, 1023),
    help="Spacecraft ID (default %d; with a server: its spacecraft of this SCID)." % DEFAULT_SCID,
)
@_server_options
def send(
    name: str,
    args: tuple[str, ...],
    url: str,
    role: str,
    confirm: bool,
    timeout: float,
    apid: int,
    key_file: str | None,
    spi: int,
    scid: int | None = None,
    server: str | None = None,
    token_file: str | None = None,
    config: str | None = None,
    spacecraft: str | None = None,
) -> None:
    """Send a command by NAME with ARGS as key=value, and wait for its PUS-1 verification.

    Exit codes: 0 completed, 1 link down, 2 refused on the ground (usage, range, role), 3 failed
    onboard, 4 no answer (the spacecraft did not get it, or refused its authentication: safe to
    resend), 5 delivered but unverified (COP-1 acknowledged it, the reports were lost: do NOT resend).

    With --server (or $CUBESAT_SERVER, or [client] server in --config) the ground server sends it:
    your token's user and role apply (not --role), the server holds the keys, and the decoded
    reply (TM 17,2 / 20,2 / 11,13 / 3,25) is printed too.

    `thruster_arm --confirm` does both arming steps: the token of the ARM_PENDING event is
    quoted in thruster_arm_confirm as soon as it is down, inside the board's window.
    """
    import time

    from ground.commanding import send_and_verify
    from ground.dictionary import CommandError, PermissionDenied, build_tc
    from ground.sdls_counter import CounterError, SequenceCounter
    from ground.transport import LinkError

    values: dict[str, object] = {}
    for item in args:
        if "=" not in item:
            raise click.BadParameter("arguments are key=value, got %r" % item, param_hint="ARGS")
        key, value = item.split("=", 1)
        values[key] = value
    ground_url, token = _resolve_server(server, token_file, config)
    if ground_url is not None:
        if key_file is not None:
            raise click.UsageError("--key-file is for the standalone link: the ground server holds the keys")
        from ground.server import cli_client

        sys.exit(
            cli_client.send(ground_url, token, spacecraft, name, values, confirm, timeout, click.echo, scid)
        )
    try:
        tc = build_tc(name, values, apid, int(time.time() * 1000) & 0x3FFF, role, confirm)
    except (CommandError, PermissionDenied) as exc:
        raise click.UsageError(str(exc)) from None
    key_bytes = _read_key(key_file)
    sa = None
    if key_bytes is not None and key_file is not None:
        from protocols.sdls import SecurityAssociation

        sa = SecurityAssociation(spi, key_bytes)
        try:
            # a block of sequence numbers no other send has used or will use (KEY_FILE.sn, locked)
            sa.last_sn = SequenceCounter.beside(key_file).reserve()
        except CounterError as exc:
            raise click.ClickException(str(exc)) from None
    if name == "thruster_arm":  # both steps, the confirm inside the board's window
        sys.exit(_arm_thruster(url, apid, role, confirm, timeout, sa, scid))
    try:
        verdict = send_and_verify(
            url, tc, timeout_s=timeout, sa=sa, scid=DEFAULT_SCID if scid is None else scid, name=name
        )
    except LinkError as exc:
        raise click.ClickException("link: %s" % exc) from None
    line = "%s: %s" % (name, verdict.describe())
    if verdict.round_trip_ms is not None:
        line += " in %.0f ms" % verdict.round_trip_ms
    import logging

    logging.getLogger("cubesat.send").info(
        line,
        extra={"fields": {"command": name, "args": values, "link": url, "role": role,
                          "stages": verdict.stages, "failure_code": verdict.failure_code,
                          "reason": verdict.failure_reason, "round_trip_ms": verdict.round_trip_ms}},
    )  # fmt: skip
    click.echo(line)
    if verdict.ok:
        sys.exit(0)
    if verdict.failed:
        sys.exit(3)
    sys.exit(5 if verdict.unverified else 4)


def _verdict_exit(verdict) -> int:  # type: ignore[no-untyped-def]
    if verdict.ok:
        return 0
    if verdict.failed:
        return 3
    return 5 if verdict.unverified else 4


def _arm_thruster(url, apid, role, confirmed, timeout, sa, scid) -> int:  # type: ignore[no-untyped-def]
    """`send thruster_arm`: request, and as soon as the ARM_PENDING token is down, the confirm
    quoting it, on one link session (the board's window is 10 s of its time: 1 s at --speed 10)."""
    import logging

    from ground.commanding import LinkSession, arm_thruster
    from ground.dictionary import build_tc
    from ground.transport import LinkError

    def build(cmd: str, values: dict, seq: int):  # type: ignore[no-untyped-def]
        return build_tc(cmd, values, apid, seq, role, confirmed)

    try:
        with LinkSession(url, DEFAULT_SCID if scid is None else scid, sa=sa) as session:
            first, token, second = arm_thruster(session, build, timeout)
    except LinkError as exc:
        raise click.ClickException("link: %s" % exc) from None
    for cmd, verdict in (("thruster_arm", first), ("thruster_arm_confirm", second)):
        if verdict is None:
            continue
        line = "%s: %s" % (cmd, verdict.describe())
        if verdict.round_trip_ms is not None:
            line += " in %.0f ms" % verdict.round_trip_ms
        if cmd == "thruster_arm" and token is not None:
            line += " (ARM_PENDING token %d)" % token
        logging.getLogger("cubesat.send").info(
            line,
            extra={"fields": {"command": cmd, "link": url, "role": role, "stages": verdict.stages,
                              "failure_code": verdict.failure_code, "reason": verdict.failure_reason}},
        )  # fmt: skip
        click.echo(line)
    if first.ok and token is None:
        click.echo("thruster_arm: no ARM_PENDING event came down (event disabled?): not confirmed")
        return 3
    if second is not None and second.ok:
        click.echo("thrusters armed")
    return _verdict_exit(second if second is not None else first)


@main.command()
@click.option("--link", "url", default="tcp://127.0.0.1:5555", show_default=True, help="Link URL.")
@click.option(
    "--seconds",
    default=60.0,
    type=_Finite(0.0, min_open=True),
    show_default=True,
    help="How long to watch.",
)
@click.option("--archive", "db", type=click.Path(dir_okay=False), help="Also archive what arrives (SQLite).")
@click.option(
    "--scid",
    type=click.IntRange(0, 1023),
    help="Spacecraft ID (default %d; with a server: its spacecraft of this SCID)." % DEFAULT_SCID,
)
@_server_options
@click.option("--json", "as_json", is_flag=True, help="With a server: one JSON object per packet.")
def watch(
    url: str,
    seconds: float,
    db: str | None,
    scid: int | None = None,
    server: str | None = None,
    token_file: str | None = None,
    config: str | None = None,
    spacecraft: str | None = None,
    as_json: bool = False,
) -> None:
    """Live telemetry: latest values with limit colours, events and link statistics.

    With --server (or $CUBESAT_SERVER, or [client] server in --config) it prints every decoded
    packet the ground server receives (the server archives them; --archive does not apply).

    Exit codes: 0 telemetry received, 1 link down or lost, no telemetry, or an unusable --archive.
    """
    ground_url, token = _resolve_server(server, token_file, config)
    if ground_url is not None:
        _watch_server(ground_url, token, spacecraft, seconds, as_json, scid)
        return
    from ground.archive import Archive, ArchiveError
    from ground.transport import LinkError
    from ground.watch import Watcher

    try:
        arc = Archive(db) if db else None
    except ArchiveError as exc:
        raise click.ClickException("--archive: %s; give a new file or one `watch` wrote" % exc) from None
    try:
        try:
            watcher = Watcher(url, archive=arc, scid=DEFAULT_SCID if scid is None else scid)
        except LinkError as exc:
            raise click.ClickException(
                "link: %s; check --link and that the twin or board is running" % exc
            ) from None
        try:
            watcher.run(seconds)
        except LinkError as exc:
            raise click.ClickException(
                "link lost: %s; is the twin or board still running?%s"
                % (exc, " (what arrived is archived)" if arc is not None and watcher.values else "")
            ) from None
        finally:
            watcher.close()
    finally:
        if arc is not None:
            arc.close()
    if not watcher.values:
        dl = watcher.downlink
        raise click.ClickException(
            "no telemetry received in %g s on %s; is the spacecraft powered and the link right?%s"
            % (seconds, url, "" if not dl.foreign_frames else " (%d frames of SCID %s ignored: check --scid)"
               % (dl.foreign_frames, ", ".join(str(s) for s in sorted(dl.foreign_scids))))
        )  # fmt: skip


@main.command()
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
    type=_Finite(0.0, 1e6, min_open=True),
    default=None,
    help="Board clock = CPU time of the Python code x this factor.",
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
) -> None:
    """Run the emulated MicroPython dev board (real MicroPython, WebAssembly) until Ctrl-C.

    Exit status: 0 stopped by Ctrl-C, 1 could not start (no node, busy port, unusable flash
    folder) or kept crashing."""
    from ground.emuboard import EmulatorError, run_emulator

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
        )
    except EmulatorError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            "emulate: %s%s" % (exc.strerror or exc, " (%s)" % exc.filename if exc.filename else "")
        ) from None
    sys.exit(rc)


@main.group()
def flash() -> None:
    """Flash firmware and deploy application bundles to boards."""


@flash.command("deploy")
@click.option("--port", "-p", required=True, help="Serial port of the board, e.g. /dev/ttyACM0.")
@click.option(
    "--bundle",
    "bundle_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Bundle folder from `cubesat build` (the one holding manifest.json).",
)
@click.option(
    "--entry", default="flight.main", show_default=True, help="Module boot_select runs from the slot."
)
@click.option("--attempts", default=3, show_default=True, help="Failed boots before rolling back.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the app's mark_good().")
def flash_deploy(port: str, bundle_dir: str, entry: str, attempts: int, timeout: float) -> None:
    """Install a bundle in the inactive A/B slot, verify it, switch and wait for its heartbeat.

    Exit status: 0 deployed, 1 failed (the previous slot still boots), 3 the new slot failed its
    boots and the board rolled back.
    """
    from ground.flash.deploy import DeployError, RolledBackError, deploy

    try:
        r = deploy(port, bundle_dir, entry=entry, max_attempts=attempts, boot_timeout=timeout, log=click.echo)
    except RolledBackError as exc:
        click.echo("Error: %s" % exc, err=True)  # the reason: the console lines of the failed boots
        sys.exit(3)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # a port that vanished mid-way, an unreadable bundle file
        where = exc.filename or port
        raise click.ClickException("deploy: %s: %s" % (where, exc.strerror or exc)) from None
    click.echo(
        "deployed %s to slot %s (%s): %d uploaded (%d B), %d copied on board, "
        "%d unchanged, %d removed, %.1f s"
        % (
            r.bundle,
            r.slot,
            "slot %s kept for rollback" % r.previous if r.previous else "no previous slot to roll back to",
            len(r.uploaded),
            r.bytes_uploaded,
            len(r.cloned),
            len(r.skipped),
            len(r.removed),
            r.seconds,
        )
    )
    click.echo(
        "note: any raw-REPL tool (mpremote ls/cp/exec, flash status) stops the running app; "
        "`cubesat flash restart -p %s` starts it again" % port
    )


@flash.command("restart")
@click.option("--port", "-p", required=True, help="Serial port of the board.")
def flash_restart(port: str) -> None:
    """Start the flight software again after a tool stopped it (mpremote ls/cp, a raw REPL):
    soft-reboot into main.py, where boot_select boots the active slot."""
    from ground.flash.deploy import DeployError, restart

    try:
        restart(port)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException("restart: %s: %s" % (port, exc.strerror or exc)) from None
    click.echo("restarted the app on %s (boot_select boots the active slot)" % port)


@flash.command("status")
@click.option("--port", "-p", required=True, help="Serial port of the board.")
def flash_status(port: str) -> None:
    """Show the firmware's .mpy ABI, the boot pointer and what each slot holds (restarts the app)."""
    from ground.flash.deploy import DeployError, status

    try:
        s = status(port)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException("status: %s: %s" % (port, exc.strerror or exc)) from None
    click.echo("firmware: %s" % s.board.describe())
    if s.state is None:
        click.echo("boot_select: not installed (run `cubesat flash deploy`)")
    else:
        st = s.state
        pending = st["pending"] or "-"
        click.echo(
            "boot pointer: active %s, pending %s, attempts %d/%d%s"
            % (
                st["active"],
                pending,
                st["attempts"],
                st["max_attempts"],
                ", rolled back from %s" % st["rolled_back"] if st.get("rolled_back") else "",
            )
        )
    for slot, info in sorted(s.slots.items()):
        if info is None:
            click.echo("slot %s: empty" % slot)
        else:
            # files: the manifest's modules + manifest.json, the same count deploy uploads/verifies
            missing = info.get("on_board", info["files"]) != info["files"]
            click.echo(
                "slot %s: %s %s rev %s, %d files%s"
                % (
                    slot,
                    info["board"],
                    info["version"],
                    str(info["git_revision"])[:12],
                    info["files"],
                    " (%d in the slot folder: deploy again to repair)" % info["on_board"] if missing else "",
                )
            )
    if s.restarted:
        click.echo(
            "app: reading the board stopped the running app; soft-rebooted into main.py to start it again "
            "(mpremote commands stop it too: `cubesat flash restart -p %s` starts it again)" % port
        )


@flash.command("esp32")
@click.option("--port", "-p", required=True, help="Serial port of the board, e.g. /dev/ttyUSB0.")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--address",
    default="0x1000",
    show_default=True,
    help="Flash offset (ESP32: 0x1000; ESP32-S3/C3 images: 0x0).",
)
@click.option("--baud", default=460800, show_default=True, help="Baud rate after connecting at 115200.")
@click.option(
    "--before",
    type=click.Choice(["default-reset", "no-reset"]),
    default="default-reset",
    show_default=True,
    help="default-reset: enter the ROM loader via DTR/RTS; no-reset: board already in download mode.",
)
@click.option(
    "--after",
    type=click.Choice(["hard-reset", "soft-reset", "no-reset"]),
    default="hard-reset",
    show_default=True,
    help="How to start the new firmware.",
)
@click.option("--no-compress", is_flag=True, help="Send the image uncompressed.")
@click.option("--force", is_flag=True, help="Write data that is not an ESP image; skip the image chip check.")
def flash_esp32_cmd(
    port: str, image: str, address: str, baud: int, before: str, after: str, no_compress: bool, force: bool
) -> None:
    """Write a MicroPython .bin to an ESP32-family board through its ROM loader and MD5-verify it.

    Exit status: 0 written and verified, 1 refused or failed (the message says which).
    """
    from ground.flash.esp import EspFlashError, flash_esp32

    try:
        addr = int(address, 0)
    except ValueError:
        raise click.BadParameter("not a number: %r" % address, param_hint="--address") from None
    try:
        r = flash_esp32(
            port,
            image,
            address=addr,
            baud=baud,
            log=click.echo,
            force=force,
            compress=not no_compress,
            before=before,
            after=after,
        )
    except EspFlashError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # a busy or vanished port (pyserial's SerialException is an OSError)
        raise click.ClickException("%s: %s" % (exc.filename or port, exc.strerror or exc)) from None
    click.echo(
        "flashed %d B to %s (%s, MAC %s) at 0x%X, MD5 %s verified, %.1f s%s"
        % (
            r.size,
            r.chip,
            r.description,
            r.mac,
            r.address,
            r.md5,
            r.seconds,
            "" if r.reset else "; board not reset, press EN/RESET",
        )
    )


@flash.command("uf2")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--drive",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Mounted bootloader drive (RPI-RP2, ...).",
)
@click.option(
    "--family", default="RP2040", show_default=True, help="UF2 family of the board (RP2040, SAMD51...)."
)
def flash_uf2(image: str, drive: str, family: str) -> None:
    """Copy a MicroPython image to a UF2 bootloader drive: a .uf2 is checked (family, blocks),
    a raw .bin is wrapped for the family's flash base. A wrong-family image is refused, and so is
    a drive that is not a UF2 bootloader of that family (INFO_UF2.TXT missing or naming another).

    Exit status: 0 written, 1 refused or failed (nothing written)."""
    from pathlib import Path

    from ground.flash import uf2

    try:
        data = Path(image).read_bytes()
        if not image.lower().endswith(".uf2"):
            data = uf2.encode(data, family)
        target = uf2.flash_to_drive(data, Path(drive), family)
    except uf2.Uf2Error as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException("%s: %s" % (exc.filename or drive, exc.strerror or exc)) from None
    click.echo(
        "wrote %s (%d B, family %s); the board reboots into the new firmware" % (target, len(data), family)
    )


@flash.command("dfu")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option("--address", default="0x08000000", show_default=True, help="Flash address of the image.")
@click.option("--vid", default="0x0483", show_default=True, help="USB vendor id of the DFU bootloader.")
@click.option("--pid", default="0xDF11", show_default=True, help="USB product id of the DFU bootloader.")
def flash_dfu(image: str, address: str, vid: str, pid: str) -> None:
    """Write a raw STM32 image over USB DFU/DfuSe (erase, download, read-back verify, leave).

    Exit status: 0 written and verified; 1 failed: no USB backend (install libusb-1.0-0), no device
    in DFU mode (BOOT0 high), no permission on the USB device, or a DFU error (the message says which).
    """
    from pathlib import Path

    from ground.flash.dfu import DfuError, DfuSeDevice

    try:
        import usb.core
    except ImportError:
        raise click.ClickException("DFU needs pyusb: pip install pyusb") from None
    try:
        addr, v, p = int(address, 0), int(vid, 0), int(pid, 0)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    try:
        dev = usb.core.find(idVendor=v, idProduct=p)
    except usb.core.NoBackendError:
        raise click.ClickException(
            "no USB backend: install libusb (apt install libusb-1.0-0, brew install libusb); "
            "then put the board in DFU mode (BOOT0 high, reset)"
        ) from None
    except (usb.core.USBError, OSError) as exc:
        raise click.ClickException("USB: %s" % exc) from None
    if dev is None:
        raise click.ClickException("no DFU device %04x:%04x (board in bootloader mode? BOOT0 high)" % (v, p))
    try:
        data = Path(image).read_bytes()
        DfuSeDevice(dev).flash(addr, data)
    except DfuError as exc:
        raise click.ClickException("DFU: %s" % exc) from None
    except usb.core.USBError as exc:  # e.g. [Errno 13] Access denied: a udev rule for the bootloader
        raise click.ClickException("USB %04x:%04x: %s" % (v, p, exc)) from None
    except OSError as exc:
        raise click.ClickException("%s: %s" % (exc.filename or image, exc.strerror or exc)) from None
    click.echo("flashed %d B at 0x%08X over DFU, verified, left DFU mode" % (len(data), addr))


main.add_command(bench)
main.add_command(passes)


if __name__ == "__main__":
    main()
