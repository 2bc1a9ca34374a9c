"""The `cubesat` group itself: global options (--debug, --verbose, --log-file), lazily loaded
subgroups, and the safety net that turns whatever escapes a command into one line and an exit code."""

from __future__ import annotations

import sys

import click

from ground import __version__
from ground.cli.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_SOFTWARE, traceback_if, unexpected
from ground.cli.files import os_hint


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
            traceback_if(ctx)
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
            traceback_if(ctx)
            click.echo("error: %s" % unexpected(exc, bool(ctx.params.get("debug"))), err=True)
            ctx.exit(EXIT_SOFTWARE)


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
                "cannot write --log-file %s: %s; %s" % (log_file, exc.strerror or exc, os_hint(exc))
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
