"""`cubesat uplink-bundle`: an in-orbit update over the radio link (ground/bundle_uplink.py)."""

from __future__ import annotations

import sys

import click

from ground import DEFAULT_SCID
from ground.cli.options import Finite, key_options, link_option, read_key

EXIT_LANDED = 0
EXIT_LINK = 1
EXIT_REFUSED = 2  # the plan or a command refused (wrong board, slot on trial, ...)
EXIT_TIMEOUT = 4


@click.command("uplink-bundle")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False))
@link_option
@key_options(2, "Slot uplinks and the update command need the admin key: authenticate them")
@click.option("--max-attempts", default=3, type=click.IntRange(1, 10), show_default=True,
              help="Boots the new slot gets to report good before the board rolls back.")  # fmt: skip
@click.option(
    "--timeout",
    default=3600.0,
    type=Finite(1.0, 86400.0),
    show_default=True,
    help="Seconds for the whole campaign.",
)
@click.option("--downloads", default=".cubesat-downloads", show_default=True,
              help="Folder for the files the board sends down (its boot pointer, its manifest).")  # fmt: skip
@click.option("--scid", default=DEFAULT_SCID, type=click.IntRange(0, 1023), show_default=True)
def uplink_bundle(
    bundle: str,
    url: str,
    key_file: str | None,
    spi: int,
    max_attempts: int,
    timeout: float,
    downloads: str,
    scid: int,
) -> None:
    """Update the flight software in orbit with BUNDLE (as `cubesat build` writes it).

    Only the modules whose SHA-256 differs from the board's active slot go up (CFDP class 2, lost
    segments sent again), into the inactive slot; the board completes and verifies that slot, boots
    it on trial, and rolls back unless the new software reports good within --max-attempts boots.

    Exit codes: 0 landed and rebooted on trial, 1 link down, 2 refused (another board's bundle, a
    slot on trial, a transfer or command refused: the reason is printed), 4 timed out.
    """
    import time
    from pathlib import Path

    from ground.bundle_uplink import BundleUplink
    from ground.file_transfer import FileTransfers
    from ground.sdls_counter import CounterError, SequenceCounter
    from ground.terminal import Terminal
    from ground.transport import LinkError, open_link

    if not (Path(bundle) / "manifest.json").is_file():
        raise click.BadParameter(
            "%s has no manifest.json (`cubesat build` writes one)" % bundle, param_hint="BUNDLE"
        )
    key = read_key(key_file)
    term = Terminal(scid=scid, key=key, spi=spi)
    if key is not None and key_file is not None and term.sa is not None:
        try:
            term.sa.last_sn = SequenceCounter.beside(key_file).reserve()
        except CounterError as exc:
            raise click.ClickException(str(exc)) from None
    ft = FileTransfers(term, downloads=Path(downloads))
    up = BundleUplink(term, ft, Path(bundle), max_attempts=max_attempts, echo=click.echo)
    try:
        link = open_link(url)
    except LinkError as exc:
        raise click.ClickException("link: %s" % exc) from None
    t0 = time.monotonic()
    shown = 0.0
    try:
        term.start(0)
        while not up.done:
            elapsed = time.monotonic() - t0
            if elapsed > timeout:
                click.echo(
                    "update: no end after %.0f s (%s)" % (timeout, up.log[-1] if up.log else "no answer")
                )
                sys.exit(EXIT_TIMEOUT)
            now = int(elapsed * 1000)
            data = term.uplink(now)
            if data:
                link.write(data)
            down = link.read(0.05)
            if down:
                term.downlink(down, now)
            ft.poll(now)
            up.step(now)
            if elapsed - shown >= 5.0:  # progress of the transfer in flight
                shown = elapsed
                for t in ft.active.values():
                    p = t.progress(now)
                    eta = "" if p["eta_s"] is None else ", ETA %.0f s" % p["eta_s"]
                    what = (p["direction"], p["remote"] or "?", p["bytes"], p["size"], p["resent"], eta)
                    click.echo("  %s %s: %d/%d B, %d B resent%s" % what)
    except LinkError as exc:
        raise click.ClickException("link: %s" % exc) from None
    finally:
        link.close()
    if up.error is not None:
        sys.exit(EXIT_REFUSED)
    click.echo(
        "update: slot %s staged, switched and rebooted (%d B uplinked)" % (up.target, up.bytes_uplinked)
    )
    sys.exit(EXIT_LANDED)
