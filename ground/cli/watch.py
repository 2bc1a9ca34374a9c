"""`cubesat watch`: live telemetry from the link, or every packet a ground server receives."""

from __future__ import annotations

import click

from ground import DEFAULT_SCID
from ground.cli.options import Finite, resolve_server, server_options


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


@click.command()
@click.option("--link", "url", default="tcp://127.0.0.1:5555", show_default=True, help="Link URL.")
@click.option(
    "--seconds",
    default=60.0,
    type=Finite(0.0, min_open=True),
    show_default=True,
    help="How long to watch.",
)
@click.option("--archive", "db", type=click.Path(dir_okay=False), help="Also archive what arrives (SQLite).")
@click.option(
    "--scid",
    type=click.IntRange(0, 1023),
    help="Spacecraft ID (default %d; with a server: its spacecraft of this SCID)." % DEFAULT_SCID,
)
@server_options
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
    ground_url, token = resolve_server(server, token_file, config)
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
