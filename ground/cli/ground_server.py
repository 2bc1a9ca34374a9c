"""`cubesat ground` (run the ground server, make tokens) and what it archived: `history` (commands)
and `events`."""

from __future__ import annotations

import click

from ground.cli.files import write_output
from ground.cli.options import resolve_server


@click.group(invoke_without_command=True)
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
            _url, token = resolve_server(opts["server"], opts["token_file"], None)
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
        write_output(opts["out"], text, "the %s" % what)
        click.echo("%d %s written to %s%s" % (len(rows), what, opts["out"], more), err=True)
    else:
        click.echo(text, nl=False)
        if not rows and opts["fmt"] == "table":
            click.echo("no %s in that range" % what, err=True)
        elif more:
            click.echo("%d %s%s" % (len(rows), what, more), err=True)


@click.command()
@_history_options
def history(**opts: object) -> None:
    """Commands sent through the ground server: user, each verification stage with its time, final
    status and the board's failure reason.

    Reads the server's archive (--archive, or --config's [server] archive) or asks the running
    server (--server or $CUBESAT_SERVER). Exit codes: 0 listed (maybe none), 1 no such archive,
    unknown spacecraft or server error, 2 bad usage (a time that is not one, --until before --since).
    """
    _history("commands", opts)


@click.command()
@_history_options
def events(**opts: object) -> None:
    """PUS-5 events the ground server received, with their severity (1 info .. 4 high) and text.

    Sources and exit codes as for `cubesat history`.
    """
    _history("events", opts)
