"""`cubesat ground transfers list|put|get|cancel|resume`: CFDP file transfers through a running
ground server (ground/server/transfers.py), with their progress while they run."""

from __future__ import annotations

import time
from typing import Any

import click

from ground.cli.options import Finite, resolve_server, server_options

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2
REFUSED = (400, 401, 403, 404, 409, 413, 422)  # the server refused the request: bad input


class _Refused(click.ClickException):
    exit_code = EXIT_REFUSED


def _exit(code: int) -> None:
    click.get_current_context().exit(code)


def _client(opts: dict[str, Any]) -> Any:
    from ground.server.client import GroundClient

    url, token = resolve_server(opts["server"], opts["token_file"], opts["config"])
    if url is None:
        raise click.UsageError("give --server URL (or $CUBESAT_SERVER, or --config with a [client] table)")
    return GroundClient(url, token, opts["spacecraft"])


def _call(fn: Any, *args: Any) -> Any:
    """fn(*args); a server error as one line: exit 2 if it refused the request, else 1."""
    from ground.server.errors import ClientError

    try:
        return fn(*args)
    except ClientError as exc:
        if exc.status in REFUSED:
            raise _Refused("ground server: %s" % exc) from None
        raise click.ClickException("ground server: %s" % exc) from None


def line(t: dict[str, Any]) -> str:
    """One transfer as the operator reads it: bytes/size, segments re-sent, ETA, or its outcome."""
    head = "#%d %-4s %s" % (t["id"], t["direction"], t["remote"] or "(name not yet known)")
    size = t["size"] or 0
    if t["state"] == "running":
        pct = " (%d%%)" % (100 * t["bytes"] // size) if size else ""
        eta = "" if t.get("eta_s") is None else ", ETA %.1f s" % t["eta_s"]
        return "%s: %d/%d B%s, %d re-sent%s" % (head, t["bytes"], size, pct, t["resent"] or 0, eta)
    why = t.get("condition_text") or ""
    took = "" if t.get("elapsed_s") is None else " in %.1f s" % t["elapsed_s"]
    out = "%s: %s%s, %d/%d B, %d re-sent" % (head, t["state"], took, t["bytes"] or 0, size, t["resent"] or 0)
    return out + ("" if t["state"] == "done" else " (%s)" % why)


def _follow(gs: Any, tid: int, timeout: float, interval: float) -> int:
    """Progress lines of transfer `tid` until it ends; the exit code of its outcome."""
    deadline = time.monotonic() + timeout
    shown = None
    while True:
        t = _call(gs.transfer, tid)
        text = line(t)
        if text != shown:
            click.echo(text)
            shown = text
        if t["state"] != "running":
            return EXIT_OK if t["state"] == "done" else EXIT_FAILED
        if time.monotonic() > deadline:
            raise click.ClickException(
                "transfer %d still runs after %g s (it goes on; see `list`)" % (tid, timeout)
            )
        time.sleep(interval)


def _wait_options(f):  # type: ignore[no-untyped-def]
    f = click.option("--no-wait", is_flag=True, help="Return once it started; `list` shows its progress.")(f)
    f = click.option(
        "--interval",
        default=1.0,
        type=Finite(0.01, 60.0),
        show_default=True,
        help="Seconds between progress lines.",
    )(f)
    return click.option(
        "--timeout",
        default=600.0,
        type=Finite(0.0, 86400.0, min_open=True),
        show_default=True,
        help="Seconds to follow it before giving up (the transfer goes on).",
    )(f)


@click.group("transfers")
def transfers() -> None:
    """CFDP file transfers through the ground server (--server or $CUBESAT_SERVER; token from
    $CUBESAT_TOKEN or --token-file).

    Exit codes: 0 done, 1 the transfer failed or was cancelled, the server is unreachable or
    following it timed out, 2 bad usage or refused by the server (role, unknown spacecraft or
    transfer, remote outside files/ and the slots, a file too big).
    """


@transfers.command("list")
@click.option("--limit", default=20, type=click.IntRange(1, 10000), show_default=True)
@click.option("--watch", is_flag=True, help="Again every --interval until none runs.")
@click.option("--interval", default=1.0, type=Finite(0.01, 60.0), show_default=True)
@server_options
def list_transfers(limit: int, watch: bool, interval: float, **opts: Any) -> None:
    """The newest transfers, newest first: running ones with bytes, segments re-sent and ETA."""
    gs = _client(opts)
    while True:
        rows = _call(gs.transfers, None, limit)
        for t in rows:
            click.echo(line(t))
        if not rows:
            click.echo("no transfers", err=True)
        if not watch or not any(t["state"] == "running" for t in rows):
            return
        time.sleep(interval)
        click.echo("")


@transfers.command("put")
@click.argument("local", type=click.Path(exists=True, dir_okay=False))
@click.argument("remote")
@_wait_options
@server_options
def put(local: str, remote: str, timeout: float, interval: float, no_wait: bool, **opts: Any) -> None:
    """Uplink LOCAL to the board's REMOTE path (files/...: operator; slot_a/, slot_b/: admin)."""
    from ground.server.transfers import MAX_UPLOAD, check_remote

    try:
        check_remote(remote, "up")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="REMOTE") from None
    try:
        with open(local, "rb") as fh:
            data = fh.read(MAX_UPLOAD + 1)
    except OSError as exc:
        raise click.BadParameter(
            "cannot read %s: %s" % (local, exc.strerror or exc), param_hint="LOCAL"
        ) from None
    if len(data) > MAX_UPLOAD:
        raise click.BadParameter("over %d bytes, the most the board takes" % MAX_UPLOAD, param_hint="LOCAL")
    gs = _client(opts)
    t = _call(gs.put_file, data, remote)
    click.echo(line(t))
    if not no_wait:
        _exit(_follow(gs, t["id"], timeout, interval))


@transfers.command("get")
@click.argument("remote")
@_wait_options
@server_options
def get(remote: str, timeout: float, interval: float, no_wait: bool, **opts: Any) -> None:
    """Downlink the board's REMOTE file (files/, flash/, a slot, boot_state.json) into the
    server's downloads folder (the file_downlink command)."""
    from ground.server.transfers import check_remote

    try:
        check_remote(remote, "down")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="REMOTE") from None
    gs = _client(opts)
    before = max((t["id"] for t in _call(gs.transfers, None, 1)), default=0)
    out = _call(gs.get_file, remote, None, min(timeout, 60.0))
    cmd = out["command"]
    if cmd["status"] != "completed":
        failure = cmd.get("failure") or {}
        why = failure.get("detail") or failure.get("text") or cmd["status"]
        raise click.ClickException("file_downlink %s: %s (command #%d)" % (remote, why, cmd["id"]))
    click.echo("file_downlink %s: completed (command #%d)" % (remote, cmd["id"]))
    if no_wait:
        return
    deadline = time.monotonic() + timeout
    while True:  # the transaction appears when its first PDU comes down
        new = [t for t in _call(gs.transfers, None, 20) if t["id"] > before and t["direction"] == "down"]
        mine = [t for t in new if t["remote"] == remote] or new
        if mine:
            _exit(_follow(gs, mine[-1]["id"], max(deadline - time.monotonic(), 0.1), interval))
        if time.monotonic() > deadline:
            raise click.ClickException("no file came down within %g s" % timeout)
        time.sleep(min(interval, 0.2))


@transfers.command("cancel")
@click.argument("tid", metavar="ID", type=click.IntRange(1))
@server_options
def cancel(tid: int, **opts: Any) -> None:
    """Cancel running transfer ID (CFDP cancel: the board drops what it received)."""
    click.echo(line(_call(_client(opts).cancel_transfer, tid)))


@transfers.command("resume")
@click.argument("tid", metavar="ID", type=click.IntRange(1))
@_wait_options
@server_options
def resume(tid: int, timeout: float, interval: float, no_wait: bool, **opts: Any) -> None:
    """Start failed or cancelled uplink ID again: the same file to the same remote path, as a new
    transfer (the board kept none of the old one)."""
    gs = _client(opts)
    t = _call(gs.resume_transfer, tid)
    click.echo("resumed #%d as #%d" % (tid, t["id"]))
    click.echo(line(t))
    if not no_wait:
        _exit(_follow(gs, t["id"], timeout, interval))
