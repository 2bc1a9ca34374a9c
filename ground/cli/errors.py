"""The safety net's part of `cubesat`: exit codes and the one line for an error no command handled."""

from __future__ import annotations

import click

EXIT_SOFTWARE = 70  # sysexits.h EX_SOFTWARE: an error no command handled (a bug, or the host)
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: whoever read the output went away (`| head`)


def traceback_if(ctx: click.Context) -> None:
    """With `cubesat --debug`: the traceback of the exception being handled, on stderr."""
    if ctx.params.get("debug"):
        import traceback

        traceback.print_exc()


def unexpected(exc: BaseException, debug: bool) -> str:
    """One line for an exception no command handled: what happened; what to do."""
    what = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, OSError):
        if exc.strerror and exc.filename:
            what = "%s: %s" % (exc.strerror, exc.filename)
        todo = "check the path or link, its permissions and free space"
    else:
        what = "%s: %s" % (type(exc).__name__, what)
        todo = "this is a bug in cubesat, please report it with the traceback"
    return "%s; %s%s" % (what, todo, "" if debug else " (rerun as `cubesat --debug ...` to see it)")
