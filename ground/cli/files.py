"""Output files and folders for `cubesat` commands: a missing folder or a read-only place is one line
that says what to do, not a traceback."""

from __future__ import annotations

import errno

import click


def os_hint(exc: OSError) -> str:
    """What to do about an OSError from opening a file or folder."""
    if exc.errno == errno.ENOENT:
        return "create the folder first or choose another path"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "choose a place you can write to"
    if exc.errno == errno.EISDIR:
        return "give a file name, not a folder"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "a file is in the way of a folder; choose another path"
    if exc.errno == errno.ENOSPC:
        return "free some disk space"
    return "choose another path"


def write_output(path: str, data: str | bytes, what: str) -> None:
    """Write an output file; a missing folder or a read-only place is one line, not a traceback."""
    try:
        with open(path, "wb" if isinstance(data, bytes) else "w") as fh:
            fh.write(data)
    except OSError as exc:
        raise click.ClickException(
            "cannot write %s to %s: %s; %s" % (what, path, exc.strerror or exc, os_hint(exc))
        ) from None


def writable_dir(path: str, option: str) -> None:
    """Create the output folder if needed and check it takes files, before any work is done."""
    import tempfile
    from pathlib import Path

    try:
        Path(path).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except FileExistsError:
        raise click.ClickException("%s %s is a file, not a folder; give a folder" % (option, path)) from None
    except OSError as exc:
        raise click.ClickException(
            "%s %s: cannot write there (%s); %s" % (option, path, exc.strerror or exc, os_hint(exc))
        ) from None
