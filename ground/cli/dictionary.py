"""`cubesat dict`: the command and telemetry dictionary, its parameters, XTCE and a Yamcs instance."""

from __future__ import annotations

import click

from ground import DEFAULT_SCID
from ground.cli.files import write_output


@click.group("dict")
def dictionary() -> None:
    """The command and telemetry dictionary (from flight/dictionary.py)."""


@dictionary.command("commands")
def dict_commands() -> None:
    """List commands with their arguments, ranges and hazard flags."""
    from rich.console import Console
    from rich.table import Table

    from flight.dictionary import COMMANDS
    from ground.dictionary import command

    table = Table(title="Commands")
    for col in ("name", "PUS", "arguments", "hazardous", "description"):
        table.add_column(col)
    for name in sorted(COMMANDS):
        c = command(name)
        args = ", ".join(
            "%s:%s[%s]" % (a[0], a[1], "|".join(a[3]) if a[1] == "enum" else "%s..%s" % (a[2], a[3]))
            if a[2] is not None or a[1] == "enum"
            else "%s:%s" % (a[0], a[1])
            for a in c.args
        )
        pus = "%d,%d" % (c.service, c.subtype) + (" f%d" % c.function_id if c.function_id is not None else "")
        table.add_row(name, pus, args or "-", "[red]yes[/]" if c.hazardous else "no", c.description)
    Console().print(table)


@dictionary.command("telemetry")
def dict_telemetry() -> None:
    """List telemetry parameters with units and limits."""
    from flight.dictionary import TELEMETRY

    for name in sorted(TELEMETRY):
        unit, ylo, yhi, rlo, rhi, desc = TELEMETRY[name]
        click.echo("%-10s %-6s yellow %s..%s red %s..%s  %s" % (name, unit or "-", ylo, yhi, rlo, rhi, desc))


@dictionary.command("params")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def dict_params(fmt: str, out: str | None) -> None:
    """List the onboard parameters (PUS-20): id, name, default, range, unit, description.

    `send param_get param_id=NAME` takes the name or the id."""
    import csv
    import io
    import json

    from flight.dictionary import PARAMS

    rows = [
        {"id": pid, "name": name, "default": default, "min": lo, "max": hi, "unit": unit, "description": desc}
        for pid, (name, default, lo, hi, unit, desc) in sorted(PARAMS.items())
    ]
    if fmt == "json":
        text = json.dumps(rows, indent=1) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    else:
        cells = [["id", "name", "default", "range", "unit", "description"]] + [
            [str(r["id"]), r["name"], "%g" % r["default"], "%g..%g" % (r["min"], r["max"]), r["unit"] or "-",
             r["description"]]
            for r in rows
        ]  # fmt: skip
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        text = "\n".join(lines) + "\n"
    if out:
        write_output(out, text, "the parameter table")
        click.echo("%d parameters written to %s" % (len(rows), out), err=True)
    else:
        click.echo(text, nl=False)


@dictionary.command("xtce")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
def dict_xtce(output: str | None) -> None:
    """Export the dictionary as XTCE 1.2 XML."""
    from ground.dictionary import to_xtce

    xml = to_xtce()
    if output:
        write_output(output, xml, "the XTCE file")
        click.echo("XTCE written to %s" % output, err=True)
    else:
        click.echo(xml)


def _udp_port(default: int, what: str) -> dict:
    return {
        "type": click.IntRange(1, 65535),
        "default": default,
        "show_default": True,
        "help": "UDP port %s." % what,
    }


@dictionary.command("yamcs")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--scid", type=click.IntRange(0, 1023), default=DEFAULT_SCID, show_default=True)
@click.option(
    "--interleave", type=click.Choice(["1", "2", "3", "4", "5", "8"]), default="5", show_default=True
)
@click.option("--http-port", type=click.IntRange(1, 65535), default=8090, show_default=True)
@click.option("--tm-frames-port", **_udp_port(10015, "where Yamcs takes TM frames from the ground server"))
@click.option("--tm-packets-port", **_udp_port(10016, "where Yamcs takes PUS packets"))
@click.option("--tc-port", **_udp_port(10025, "of the ground server where Yamcs sends its telecommands"))
def dict_yamcs(
    folder: str, scid: int, interleave: str, http_port: int, tm_frames_port: int, tm_packets_port: int,
    tc_port: int,
) -> None:  # fmt: skip
    """Write a ready Yamcs instance (config, links, XTCE mission database) into FOLDER."""
    import shlex
    from pathlib import Path

    from ground.yamcs_instance import YamcsPorts, java_command, write_instance

    ports = YamcsPorts(http_port, tm_frames_port, tm_packets_port, tc_port)
    try:
        etc = write_instance(Path(folder), ports, scid, int(interleave))
    except OSError as exc:
        raise click.ClickException(
            "cannot write the Yamcs instance to %s: %s" % (folder, exc.strerror or exc)
        ) from None
    click.echo("Yamcs instance written to %s" % etc.parent)
    try:
        click.echo("check it:    %s confcheck" % shlex.join(java_command(etc, "org.yamcs.cli.YamcsAdminCli")))
        click.echo("start it:    %s" % shlex.join(java_command(etc)))
    except FileNotFoundError as exc:
        click.echo("start it:    %s" % exc)
    click.echo("web console: http://127.0.0.1:%d" % http_port)
    click.echo("ground server [[spacecraft]] with scid = %d:" % scid)
    click.echo('  yamcs = { tm_frames = "127.0.0.1:%d", tc_port = %d }' % (tm_frames_port, tc_port))
