"""Option types and option sets several `cubesat` commands share: finite floats, key files, and
going through a running ground server (--server/--token-file/--config/--spacecraft)."""

from __future__ import annotations

import math

import click


class Finite(click.FloatRange):
    """A float range that also refuses nan and inf (click's FloatRange lets nan through)."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        rv = super().convert(value, param, ctx)
        if not math.isfinite(rv):
            self.fail("%r is not a finite number" % value, param, ctx)
        return rv


# --link of a command that talks to the spacecraft over its byte link (the twin's default port)
link_option = click.option(
    "--link",
    "url",
    default="tcp://127.0.0.1:5555",
    show_default=True,
    help="Link URL (tcp://, socket://, a pty path).",
)


def key_options(spi: int, what: str):  # type: ignore[no-untyped-def]
    """--key-file and --spi of a command that authenticates its frames on the link (SDLS), the key
    file's anti-replay counter beside it; `what` says what the key is for, `spi` its default."""

    def wrap(f):  # type: ignore[no-untyped-def]
        f = click.option(
            "--spi",
            default=spi,
            type=click.IntRange(1, 65534),
            show_default=True,
            help="Security association of the key: 1 operators, 2 admin (1 on a spacecraft with one key).",
        )(f)
        return click.option(
            "--key-file",
            type=click.Path(exists=True, dir_okay=False),
            help="%s with the key in this file (hex, SDLS HMAC-SHA256); its anti-replay counter is "
            "kept beside it in KEY_FILE.sn." % what,
        )(f)

    return wrap


def read_key(path: str | None, option: str = "--key-file") -> bytes | None:
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


def server_options(f):  # type: ignore[no-untyped-def]
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


def resolve_server(server: str | None, token_file: str | None, config: str | None):  # type: ignore[no-untyped-def]
    from ground.server.cli_client import resolve
    from ground.server.errors import ConfigError

    try:
        return resolve(server, token_file, config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
