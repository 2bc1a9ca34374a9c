"""`cubesat twin`: the flight software on the simulated spacecraft, its space link on TCP or a pty."""

from __future__ import annotations

import click

from ground import DEFAULT_SCID
from ground.cli.options import Finite, read_key
from ground.passes_cli import contact_options, contact_summary

UNKEYED_BANNER = (
    "twin: UNKEYED (--insecure): telecommands are NOT authenticated; anyone who reaches the link "
    "can command the spacecraft, hazardous and admin commands included"
)


@click.command()
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
    type=Finite(0.0, 100_000.0, min_open=True),
    show_default=True,
    help="Mission time per wall-clock second.",
)
@click.option(
    "--seconds", type=Finite(0.0, min_open=True), default=None, help="Stop after this much mission time."
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
    key = read_key(key_file)
    admin_key = read_key(admin_key_file, "--admin-key-file")
    if flash is not None:
        _board_boot_directory(flash)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    factor = None
    if board_speed is not None:
        from board_tools.board_speed import BoardSpeedError, twin_speed

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


def _board_boot_directory(flash: str) -> None:
    """A --flash folder inside a board's boot directory (A/B slots and boot_select beside it, as
    `cubesat flash deploy` leaves a board): the twin's flight software finds that boot selector, as
    on the board, so in-orbit updates (`cubesat uplink-bundle`) stage and switch its slots. Where
    the folder holds the board's boot_select.mpy, which CPython cannot load, its source runs."""
    import importlib.util
    import sys
    from pathlib import Path

    boot_dir = Path(flash).resolve().parent
    source = boot_dir / "boot_select.py"
    if not source.is_file():
        if not (boot_dir / "boot_select.mpy").is_file():
            return
        source = Path(__file__).resolve().parents[2] / "firmware_builds" / "boot_select.py"
    spec = importlib.util.spec_from_file_location("boot_select", source)
    assert spec is not None and spec.loader is not None
    boot_select = importlib.util.module_from_spec(spec)
    sys.modules["boot_select"] = boot_select
    spec.loader.exec_module(boot_select)
    boot_select.root = str(boot_dir)
