"""`cubesat passes` and the contact-window options of `cubesat twin` (--tle, --station).

Only click is imported here, so that the CLI starts fast; numpy and sgp4 load (ground/passes.py)
when a command runs or one of these options is given.
"""

from __future__ import annotations

import json
import math
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ground.passes import Station, Tle

STATION_HELP = "LAT,LON,ALT_M[,MASK_DEG]: geodetic latitude and longitude (deg), altitude (m), mask (deg, 0)."
OLD_TLE_DAYS = 14.0  # beyond this from its epoch a TLE's predictions drift by kilometres


def _tle(ctx: click.Context, param: click.Parameter, value: str | None) -> Tle | None:
    if value is None:
        return None
    from ground.passes import PassError, load_tle

    try:
        return load_tle(value)
    except PassError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def _station(ctx: click.Context, param: click.Parameter, value: str | None) -> Station | None:
    if value is None:
        return None
    from ground.passes import PassError, Station

    try:
        return Station.parse(value)
    except PassError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def contact_options(f):  # type: ignore[no-untyped-def]
    """--tle, --start and --station on `cubesat twin`: the orbit from a TLE, from a chosen time,
    the link only in contact."""
    f = click.option(
        "--start",
        default="epoch",
        show_default=True,
        help="With --tle: the UTC the twin's orbit starts at (its mission time 0): 'epoch' (the "
        "TLE's), 'now' or ISO 8601, e.g. 2026-11-30T12:00:00Z; as `cubesat passes --start` takes it.",
    )(f)
    f = click.option(
        "--station",
        callback=_station,
        metavar="LAT,LON,ALT_M[,MASK]",
        help="Contact windows: the link carries bytes (both ways) only while this ground station sees "
        "the spacecraft above the mask (needs --tle). " + STATION_HELP,
    )(f)
    return click.option(
        "--tle",
        callback=_tle,
        type=click.Path(dir_okay=False),
        help="Fly the orbit of this TLE (SGP4), from its epoch (or --start), instead of the built-in "
        "circular one.",
    )(f)


def contact_summary(tle: Tle | None, station: Station | None, start_unix: float | None = None) -> list[str]:
    """What `cubesat twin` tells the operator about its orbit and contact windows."""
    if tle is None:
        return []
    from ground.passes import PassError, find_passes, iso

    t0 = tle.epoch_unix if start_unix is None else start_unix
    when = "TLE epoch %s" % iso(t0) if start_unix is None else "%s (--start)" % iso(t0)
    lines = ["twin: orbit of %s (SGP4), mission time 0 = %s" % (tle.name, when)]
    if station is None:
        return [*lines, "twin: no --station: the link is up for the whole orbit"]
    try:
        first = [p for p in find_passes(tle, station, t0, t0 + 86400.0) if p.los > t0][:1]
    except PassError as exc:
        return [*lines, "twin: cannot predict the contacts: %s" % exc]
    if not first:
        return [*lines, "twin: the link is down: no contact with station %s in the first day" % station]
    p = first[0]
    when = (
        "now (until T+%.0f s)" % (p.los - t0)
        if p.aos <= t0
        else "at T+%.0f s (%s)" % (p.aos - t0, iso(p.aos))
    )
    return [
        *lines,
        "twin: link only in contact with station %s; first contact %s, %.0f s, max elevation %.1f deg"
        % (station, when, p.duration_s, p.max_elevation_deg),
    ]


def _duration(s: float) -> str:
    return "%d:%04.1f" % (s // 60, s % 60)


@click.command()
@click.option(
    "--tle",
    required=True,
    callback=_tle,
    type=click.Path(dir_okay=False),
    help="File with one TLE (2 lines, or 3 with a name).",
)
@click.option(
    "--station", required=True, callback=_station, metavar="LAT,LON,ALT_M[,MASK]", help=STATION_HELP
)
@click.option(
    "--start",
    default="now",
    show_default=True,
    help="Start of the span: 'now', 'epoch' (the TLE's) or ISO 8601 UTC, e.g. 2026-11-30T12:00:00Z.",
)
@click.option(
    "--days",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.0, 31.0, min_open=True),
    help="Length of the span.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object (station, satellite, passes) on stdout."
)
def passes(tle: Tle, station: Station, start: str, days: float, as_json: bool) -> None:
    """Predict the passes of a satellite (TLE, SGP4) over a ground station.

    Every pass above the station's elevation mask that overlaps the span: AOS and LOS (to
    0.01 s), duration, the maximum elevation and its time, all UTC. A pass in progress at the
    start shows its real AOS. The same geometry gates the link of `cubesat twin --tle --station`.
    Exit codes: 0 done, 1 cannot predict (e.g. SGP4 refuses the time), 2 usage (bad TLE or station).
    """
    from ground.passes import PassError, find_passes, iso, parse_time

    if not math.isfinite(days):
        raise click.BadParameter("must be a finite number of days", param_hint="--days")
    try:
        t0 = parse_time(start, tle)
    except PassError as exc:
        raise click.BadParameter(str(exc), param_hint="--start") from None
    t1 = t0 + days * 86400.0
    try:
        found = find_passes(tle, station, t0, t1)
    except PassError as exc:
        raise click.ClickException(str(exc)) from None
    age = (t0 - tle.epoch_unix) / 86400.0
    if abs(age) > OLD_TLE_DAYS:
        click.echo(
            "note: the span starts %.0f days %s the TLE's epoch (%s); SGP4 predictions drift with time, "
            "get a fresh TLE" % (abs(age), "after" if age > 0 else "before", iso(tle.epoch_unix)),
            err=True,
        )
    if as_json:
        doc: dict[str, Any] = {
            "satellite": tle.name,
            "tle": [tle.line1, tle.line2],
            "station": {
                "lat_deg": station.lat_deg,
                "lon_deg": station.lon_deg,
                "alt_m": station.alt_m,
                "mask_deg": station.mask_deg,
            },
            "start": iso(t0),
            "end": iso(t1),
            "passes": [p.to_dict() for p in found],
        }
        json.dump(doc, sys.stdout, indent=2)
        click.echo()
        return
    click.echo(
        "%s over %s: %d pass%s from %s to %s"
        % (tle.name, station, len(found), "" if len(found) == 1 else "es", iso(t0), iso(t1))
    )
    if not found:
        return
    click.echo(
        "%-22s  %-22s  %8s  %7s  %-22s" % ("AOS (UTC)", "LOS (UTC)", "duration", "max el", "max at (UTC)")
    )
    for p in found:
        click.echo(
            "%-22s  %-22s  %8s  %7.2f  %-22s%s"
            % (
                iso(p.aos),
                iso(p.los),
                _duration(p.duration_s),
                p.max_elevation_deg,
                iso(p.max_time),
                "  (in progress at start)" if p.aos < t0 else "",
            )
        )
