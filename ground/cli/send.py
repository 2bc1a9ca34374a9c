"""`cubesat send`: a telecommand by name, over the link or through the ground server, and its
PUS-1 verification; `send thruster_arm` does both arming steps."""

from __future__ import annotations

import sys

import click

from flight.dictionary import APID
from ground import DEFAULT_SCID
from ground.cli.options import Finite, key_options, link_option, read_key, resolve_server, server_options


@click.command()
@click.argument("name")
@click.argument("args", nargs=-1)
@link_option
@click.option(
    "--role", type=click.Choice(["viewer", "operator", "admin"]), default="operator", show_default=True
)
@click.option("--confirm", is_flag=True, help="Required to send a hazardous command.")
@click.option(
    "--timeout",
    default=10.0,
    type=Finite(0.0, 3600.0, min_open=True),
    show_default=True,
    help="Seconds to wait for verification.",
)
@click.option("--apid", default=APID, type=click.IntRange(0, 2047), show_default=True)
@key_options(1, "Authenticate the command")
@click.option(
    "--scid",
    type=click.IntRange(0, 1023),
    help="Spacecraft ID (default %d; with a server: its spacecraft of this SCID)." % DEFAULT_SCID,
)
@server_options
def send(
    name: str,
    args: tuple[str, ...],
    url: str,
    role: str,
    confirm: bool,
    timeout: float,
    apid: int,
    key_file: str | None,
    spi: int,
    scid: int | None = None,
    server: str | None = None,
    token_file: str | None = None,
    config: str | None = None,
    spacecraft: str | None = None,
) -> None:
    """Send a command by NAME with ARGS as key=value, and wait for its PUS-1 verification.

    Exit codes: 0 completed, 1 link down, 2 refused on the ground (usage, range, role), 3 failed
    onboard, 4 no answer (the spacecraft did not get it, or refused its authentication: safe to
    resend), 5 delivered but unverified (COP-1 acknowledged it, the reports were lost: do NOT resend).

    With --server (or $CUBESAT_SERVER, or [client] server in --config) the ground server sends it:
    your token's user and role apply (not --role), the server holds the keys, and the decoded
    reply (TM 17,2 / 20,2 / 11,13 / 15,13 / 3,25) is printed too.

    `thruster_arm --confirm` does both arming steps: the token of the ARM_PENDING event is
    quoted in thruster_arm_confirm as soon as it is down, inside the board's window.
    """
    import time

    from ground.commanding import send_and_verify
    from ground.dictionary import BadCommandError, PermissionDenied, build_tc
    from ground.sdls_counter import CounterError, SequenceCounter
    from ground.transport import LinkError

    values: dict[str, object] = {}
    for item in args:
        if "=" not in item:
            raise click.BadParameter("arguments are key=value, got %r" % item, param_hint="ARGS")
        key, value = item.split("=", 1)
        values[key] = value
    ground_url, token = resolve_server(server, token_file, config)
    if ground_url is not None:
        if key_file is not None:
            raise click.UsageError("--key-file is for the standalone link: the ground server holds the keys")
        from ground.server import cli_client

        sys.exit(
            cli_client.send(ground_url, token, spacecraft, name, values, confirm, timeout, click.echo, scid)
        )
    try:
        tc = build_tc(name, values, apid, int(time.time() * 1000) & 0x3FFF, role, confirm)
    except (BadCommandError, PermissionDenied) as exc:
        raise click.UsageError(str(exc)) from None
    key_bytes = read_key(key_file)
    sa = None
    if key_bytes is not None and key_file is not None:
        from protocols.sdls import SecurityAssociation

        sa = SecurityAssociation(spi, key_bytes)
        try:
            # a block of sequence numbers no other send has used or will use (KEY_FILE.sn, locked)
            sa.last_sn = SequenceCounter.beside(key_file).reserve()
        except CounterError as exc:
            raise click.ClickException(str(exc)) from None
    if name == "thruster_arm":  # both steps, the confirm inside the board's window
        sys.exit(_arm_thruster(url, apid, role, confirm, timeout, sa, scid))
    try:
        verdict = send_and_verify(
            url, tc, timeout_s=timeout, sa=sa, scid=DEFAULT_SCID if scid is None else scid, name=name
        )
    except LinkError as exc:
        raise click.ClickException("link: %s" % exc) from None
    line = _verdict_line(name, verdict)
    import logging

    logging.getLogger("cubesat.send").info(
        line,
        extra={"fields": {"command": name, "args": values, "link": url, "role": role,
                          "stages": verdict.stages, "failure_code": verdict.failure_code,
                          "reason": verdict.failure_reason, "round_trip_ms": verdict.round_trip_ms}},
    )  # fmt: skip
    click.echo(line)
    sys.exit(_verdict_exit(verdict))


def _verdict_line(name: str, verdict) -> str:  # type: ignore[no-untyped-def]
    """`NAME: what happened in N ms`, as `send` prints and logs it."""
    line = "%s: %s" % (name, verdict.describe())
    if verdict.round_trip_ms is not None:
        line += " in %.0f ms" % verdict.round_trip_ms
    return line


def _verdict_exit(verdict) -> int:  # type: ignore[no-untyped-def]
    """The exit code of `send` for a verdict (its --help lists them)."""
    if verdict.ok:
        return 0
    if verdict.failed:
        return 3
    return 5 if verdict.unverified else 4


def _arm_thruster(url, apid, role, confirmed, timeout, sa, scid) -> int:  # type: ignore[no-untyped-def]
    """`send thruster_arm`: request, and as soon as the ARM_PENDING token is down, the confirm
    quoting it, on one link session (the board's window is 10 s of its time: 1 s at --speed 10)."""
    import logging

    from ground.commanding import LinkSession, arm_thruster
    from ground.dictionary import build_tc
    from ground.transport import LinkError

    def build(cmd: str, values: dict, seq: int):  # type: ignore[no-untyped-def]
        return build_tc(cmd, values, apid, seq, role, confirmed)

    try:
        with LinkSession(url, DEFAULT_SCID if scid is None else scid, sa=sa) as session:
            first, token, second = arm_thruster(session, build, timeout)
    except LinkError as exc:
        raise click.ClickException("link: %s" % exc) from None
    for cmd, verdict in (("thruster_arm", first), ("thruster_arm_confirm", second)):
        if verdict is None:
            continue
        line = _verdict_line(cmd, verdict)
        if cmd == "thruster_arm" and token is not None:
            line += " (ARM_PENDING token %d)" % token
        logging.getLogger("cubesat.send").info(
            line,
            extra={"fields": {"command": cmd, "link": url, "role": role, "stages": verdict.stages,
                              "failure_code": verdict.failure_code, "reason": verdict.failure_reason}},
        )  # fmt: skip
        click.echo(line)
    if first.ok and token is None:
        click.echo("thruster_arm: no ARM_PENDING event came down (event disabled?): not confirmed")
        return 3
    if second is not None and second.ok:
        click.echo("thrusters armed")
    return _verdict_exit(second if second is not None else first)
