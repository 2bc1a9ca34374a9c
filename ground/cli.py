"""`cubesat`: the one command operators and test engineers use.

Subcommands are added as the ground segment grows (twin, send, watch, archive,
dict, build, flash, bench, emulate); each has --help.
"""

from __future__ import annotations

import sys

import click

from ground import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cubesat")
def main() -> None:
    """Ground segment for cubesat-fsw: link, telemetry and test tools."""


@main.command()
@click.option("--seconds", default=5400, show_default=True, help="Simulated duration (one orbit by default).")
@click.option("--ber", default=2e-4, show_default=True, help="Channel bit error rate (downlink and uplink).")
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
def mission(seconds: int, ber: float, interleave: str, seed: int, out: str) -> None:
    """Fly an emulated pass through the full space link and print telemetry and link statistics."""
    from ground.mission import run_mission

    ok = run_mission(seconds=seconds, ber=ber, interleave=int(interleave), seed=seed, out_dir=out)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
