"""`cubesat mission`: fly an emulated pass through the full space link."""

from __future__ import annotations

import sys

import click

from ground.cli.files import writable_dir
from ground.cli.options import Finite


@click.command()
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
    type=Finite(0.0, 0.5),
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
@click.option(
    "--day",
    is_flag=True,
    help="Fly a day of store and forward instead: contact windows over --station, PUS-15 stores "
    "dumped at each AOS; passes when the archive holds every core housekeeping sample.",
)
@click.option(
    "--hours",
    default=24.0,
    type=Finite(0.1, 240.0),
    show_default=True,
    help="With --day: simulated hours to fly.",
)
@click.option(
    "--station",
    default="78.23,15.39,500,5",
    show_default=True,
    help="With --day: the ground station as lat,lon,alt_m[,mask_deg] (default: Svalbard).",
)
@click.option(
    "--console",
    "web_console",
    is_flag=True,
    help="Serve the ground server's web console (and API) for the pass, flown at --speed times real "
    "time; the twin flies on after it until Ctrl-C. Prints the URL and a token.",
)
@click.option(
    "--speed",
    default=10.0,
    type=Finite(0.1, 1000.0),
    show_default=True,
    help="With --console: simulated seconds per wall second.",
)
@click.option(
    "--port", default=0, type=click.IntRange(0, 65535), help="With --console: port (0: a free one)."
)
def mission(
    seconds: int, ber: float, interleave: str, seed: int, out: str, link: str, day: bool, hours: float,
    station: str, web_console: bool, speed: float, port: int,
) -> None:  # fmt: skip
    """Fly an emulated pass through the full space link and print telemetry and link statistics;
    with --day, a day of contact windows, onboard packet stores and playback."""
    from pathlib import Path

    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE

    if day:
        for name in ("seconds", "interleave", "link"):
            if given(name):
                raise click.UsageError("--%s is for the single pass, not --day" % name)
        if web_console:
            raise click.UsageError("--console is for the single pass, not --day")
    else:
        for name in ("hours", "station"):
            if given(name):
                raise click.UsageError("--%s goes with --day" % name)
    if not web_console:
        for name in ("speed", "port"):
            if given(name):
                raise click.UsageError("--%s goes with --console" % name)
    writable_dir(out, "--out")  # before the pass is flown, not after
    stem = "mission-day" if day else "mission"
    if day:
        from ground.passes import PassError, Station

        try:
            Station.parse(station)
        except PassError as exc:
            raise click.BadParameter(str(exc), param_hint="--station") from None
    for name in (stem + ".sqlite", stem + ".png"):
        if (Path(out) / name).is_dir():
            raise click.ClickException(
                "--out %s: %s is a folder; remove it or give another --out" % (out, name)
            )
    if link == "lora" and interleave != "1" and given("interleave"):
        raise click.BadParameter(
            "the LoRa profile fixes I=1 (one codeblock per packet)", param_hint="--interleave"
        )
    if day:
        from ground.mission_day import run_day

        ok = run_day(hours=hours, station=station, ber=ber, seed=seed, out_dir=out)
    else:
        from ground.mission import run_mission

        ok = run_mission(
            seconds=seconds, ber=ber, interleave=int(interleave), seed=seed, out_dir=out, link=link,
            web_console=web_console, speed=speed, port=port,
        )  # fmt: skip
    sys.exit(0 if ok else 1)
