"""`cubesat archive params|query|plot`: the housekeeping archive, from a file or a ground server.

Where the samples come from, first match wins:
  --db FILE                     that file, read-only (also a ground server's archive);
  --server URL, $CUBESAT_SERVER or [client] server in --config
                                the running ground server (GET /api/v1/archive/...), token as
                                for `send --server`; --spacecraft NAME or --scid N picks one;
  --config ground.toml          its [server] archive file, read-only;
  otherwise                     out/mission.sqlite (what `cubesat mission` writes).

Registered lazily by `ground.cli` (`_CubesatGroup.LAZY`).
"""

from __future__ import annotations

from typing import Any

import click
import numpy as np

from ground import DEFAULT_SCID
from ground.cli import _Finite, _resolve_server, _server_options, _write_output

DEFAULT_DB = "out/mission.sqlite"


class _ServerArchive:
    """The archive calls `cubesat archive` makes, answered by a ground server."""

    def __init__(self, url: str, token: str | None, spacecraft: str | None, scid: int | None) -> None:
        from ground.server.cli_client import spacecraft_for
        from ground.server.client import GroundClient

        self.url = url
        self.gs = GroundClient(url, token, spacecraft_for(url, token, spacecraft, scid))

    def parameters(self) -> list[str]:
        return self.gs.archive_parameters()

    def samples(self, scid: int | None, name: str, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
        t, v = self.gs.samples(name, t0, t1)
        return np.asarray(t, dtype=np.float64), np.asarray(v, dtype=np.float64)


def _open_file(db: str) -> Any:
    """The archive at `db`, read-only: a query never changes the file (no tables, no WAL added)."""
    from pathlib import Path

    from ground.archive import Archive, ArchiveError

    if not Path(db).exists():
        raise click.ClickException("no archive at %s (run `cubesat mission` or point --db at one)" % db)
    try:
        return Archive(db, readonly=True)
    except ArchiveError as exc:
        raise click.ClickException(
            "%s; point --db at a file written by `cubesat mission`, `watch --archive` or `cubesat ground`"
            % exc
        ) from None


def _open(opts: dict[str, Any]) -> tuple[Any, int | None]:
    """(archive, SCID for its samples) from the options, as the module docstring says."""
    from ground.server.errors import ClientError, ConfigError

    if opts["db"] is not None:
        return _open_file(opts["db"]), DEFAULT_SCID if opts["scid"] is None else opts["scid"]
    url, token = _resolve_server(opts["server"], opts["token_file"], opts["config"])
    if url is None:
        db = DEFAULT_DB
        if opts["config"] is not None:
            from ground.server.config import load_config

            try:
                db = load_config(opts["config"]).archive
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return _open_file(db), DEFAULT_SCID if opts["scid"] is None else opts["scid"]
    try:
        arc = _ServerArchive(url, token, opts["spacecraft"], opts["scid"])
        arc.parameters()  # reachable, token good: fail here with one line, not mid-export
    except ClientError as exc:
        raise click.ClickException("ground server: %s" % exc) from None
    return arc, None


def _source_options(f):  # type: ignore[no-untyped-def]
    f = _server_options(f)
    f = click.option(
        "--scid",
        type=click.IntRange(0, 1023),
        help="Spacecraft ID (default %d; with a server: its spacecraft of this SCID)." % DEFAULT_SCID,
    )(f)
    return click.option(
        "--db", help="Archive file, read directly (default %s, or a server when one is named)." % DEFAULT_DB
    )(f)


def _samples(arc: Any, scid: int | None, name: str, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    from ground.server.errors import ClientError

    try:
        return arc.samples(scid, name, t0, t1)
    except ClientError as exc:
        raise click.ClickException("ground server: %s" % exc) from None


@click.group()
def archive() -> None:
    """Query, export and plot the telemetry archive (SQLite file, or a running ground server)."""


@archive.command("params")
@_source_options
def archive_params(**opts: Any) -> None:
    """List the parameters stored in the archive."""
    arc, _scid = _open(opts)
    for name in arc.parameters():
        click.echo(name)


@archive.command("query")
@_source_options
@click.option("--param", "param", required=True, help="Parameter name (see `cubesat archive params`).")
@click.option(
    "--from", "t0", default=0.0, type=_Finite(), show_default=True, help="Start time [s], inclusive."
)
@click.option("--to", "t1", default=1e12, type=_Finite(), show_default=True, help="End time [s], exclusive.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
def archive_query(param: str, t0: float, t1: float, fmt: str, output: str | None, **opts: Any) -> None:
    """Export one parameter over a time range (onboard seconds) as CSV or JSON."""
    from ground.archive import export_csv, export_json

    if t1 <= t0:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    arc, scid = _open(opts)
    known = arc.parameters()
    if param not in known:
        raise click.ClickException(
            "unknown parameter %r; known: %s" % (param, ", ".join(known) or "none (empty archive)")
        )
    times, values = _samples(arc, scid, param, t0, t1)
    text = export_csv(times, values, param) if fmt == "csv" else export_json(times, values, param)
    if output:
        _write_output(output, text, "the %s export" % fmt.upper())
        click.echo("%d samples of %s written to %s" % (len(times), param, output), err=True)
    else:
        click.echo(text, nl=False)


@archive.command("plot")
@_source_options
@click.option("--param", "params", multiple=True, required=True, help="Parameter (repeat for several).")
@click.option("--png", required=True, type=click.Path(dir_okay=False), help="Output PNG file.")
def archive_plot(params: tuple[str, ...], png: str, **opts: Any) -> None:
    """Plot parameters against time to a PNG."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arc, scid = _open(opts)
    unknown = [p for p in params if p not in arc.parameters()]
    if unknown:
        raise click.ClickException("unknown parameter(s): %s" % ", ".join(unknown))
    series = [_samples(arc, scid, name, 0.0, 1e12) for name in params]
    fig, axes = plt.subplots(len(params), 1, figsize=(9, 2.5 * len(params)), sharex=True, squeeze=False)
    for ax, name, (t, v) in zip(axes[:, 0], params, series):
        ax.plot(t / 60.0, v)
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
    axes[-1, 0].set_xlabel("mission time [min]")
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=90)
    plt.close(fig)
    _write_output(png, image.getvalue(), "the plot")
    click.echo("plotted %s to %s" % (", ".join(params), png))
