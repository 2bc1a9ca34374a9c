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
def mission(seconds: int, ber: float, interleave: str, seed: int, out: str, link: str) -> None:
    """Fly an emulated pass through the full space link and print telemetry and link statistics."""
    from pathlib import Path

    from ground.mission import run_mission

    writable_dir(out, "--out")  # before the pass is flown, not after
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
