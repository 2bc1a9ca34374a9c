"""Passes of a satellite over a ground station: a TLE propagated by SGP4, seen from the ground.

    tle = load_tle("sat.tle")                         # TleError: unreadable, malformed, bad checksum
    station = Station.parse("48.15,11.57,520,10")      # lat, lon [deg], altitude [m], mask [deg]
    for p in find_passes(tle, station, start, start + 86400):   # Unix seconds (UTC)
        p.aos, p.los, p.max_time, p.max_elevation_deg

Frames: SGP4 gives TEME; TEME turned by GMST (IAU 1982) is the pseudo-Earth-fixed frame, taken
here as ITRS (no polar motion, UT1 = UTC: both move a LEO pass by well under a second). The
station is a WGS84 geodetic position; elevation is measured from its local horizontal plane,
without refraction. `cubesat passes` (ground/passes_cli.py) prints these; the twin's contact
windows (ground/contact.py) use the same geometry.

How passes are found: elevation on a grid (`step_s`, 10 s) over the span plus half an orbit
either side, every local maximum refined by bisection on the sign of the slope, the maxima at or
above the mask kept (so a grazing pass shorter than the step is not missed), one pass per
stretch above the mask (its highest point), and AOS and LOS refined by bisection to `TIME_TOL_S`.
All of it on arrays: one `Satrec.sgp4_array` call per grid or per bisection round.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from sgp4.api import SGP4_ERRORS, Satrec

from ground.errors import GroundError

DAY_S = 86400.0
UNIX_EPOCH_JD = 2440587.5  # 1970-01-01T00:00Z
WGS84_A_KM = 6378.137
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
TIME_TOL_S = 0.01  # AOS, LOS and the time of maximum elevation are refined to this
MAX_SPAN_DAYS = 31.0
STEP_S = 10.0  # the elevation grid; a pass above the mask for less than this is still found


class PassError(GroundError, ValueError):
    """Passes cannot be predicted as asked; the message says what was wrong and where."""


class TleError(PassError):
    """The TLE cannot be read or is malformed (layout, checksum, values SGP4 refuses)."""


class StationError(PassError):
    """A ground station coordinate or mask out of range or not a number."""


@dataclass(frozen=True)
class Station:
    """A ground station: geodetic latitude and longitude (deg, WGS84), altitude (m), mask (deg)."""

    lat_deg: float
    lon_deg: float
    alt_m: float = 0.0
    mask_deg: float = 0.0

    def __post_init__(self) -> None:
        for name, value, lo, hi in (
            ("latitude", self.lat_deg, -90.0, 90.0),
            ("longitude", self.lon_deg, -180.0, 360.0),
            ("altitude", self.alt_m, -500.0, 100_000.0),
            ("elevation mask", self.mask_deg, -5.0, 89.0),
        ):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
                raise StationError("station %s must be %g..%g, got %r" % (name, lo, hi, value))

    @classmethod
    def parse(cls, text: str) -> Station:
        """'lat,lon,alt_m[,mask_deg]', e.g. '48.15,11.57,520,10'."""
        parts = [p.strip() for p in text.split(",")]
        if len(parts) not in (3, 4):
            raise StationError("station must be lat,lon,alt_m[,mask_deg], got %r" % text)
        values = []
        for name, part in zip(("latitude", "longitude", "altitude", "elevation mask"), parts):
            try:
                values.append(float(part))
            except ValueError:
                raise StationError("station %s is not a number: %r" % (name, part)) from None
        return cls(*values)

    def ecef_km(self) -> np.ndarray:
        lat, lon = math.radians(self.lat_deg), math.radians(self.lon_deg)
        n = WGS84_A_KM / math.sqrt(1.0 - WGS84_E2 * math.sin(lat) ** 2)
        h = self.alt_m / 1000.0
        return np.array(
            [
                (n + h) * math.cos(lat) * math.cos(lon),
                (n + h) * math.cos(lat) * math.sin(lon),
                (n * (1.0 - WGS84_E2) + h) * math.sin(lat),
            ]
        )

    def up(self) -> np.ndarray:
        """The local vertical (the ellipsoid's normal), a unit vector in ECEF."""
        lat, lon = math.radians(self.lat_deg), math.radians(self.lon_deg)
        return np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])

    def __str__(self) -> str:
        return "%.4f%s %.4f%s %g m, mask %g deg" % (
            abs(self.lat_deg),
            "N" if self.lat_deg >= 0 else "S",
            abs(self.lon_deg),
            "E" if self.lon_deg >= 0 else "W",
            self.alt_m,
            self.mask_deg,
        )


def _checksum(line: str) -> int:
    return sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10


_NUM = "[ 0-9]"
_ANGLE = _NUM + r"{3}\." + _NUM + "{4}"
_EXP = "[ +-][0-9 ]{5}[+-][0-9]"  # an assumed-decimal mantissa and exponent: ' 38792-4'
# (name, first column, last column (1-based, as the format defines them), pattern)
_FIELDS = {
    1: (
        ("catalogue number", 3, 7, "[0-9A-Z ]{5}"),
        ("classification", 8, 8, "[A-Z ]"),
        ("international designator", 10, 17, "[0-9A-Z ]{8}"),
        ("epoch", 19, 32, _NUM + r"{5}\." + _NUM + "{8}"),
        ("mean motion derivative", 34, 43, r"[ +-]\.[0-9 ]{8}"),
        ("mean motion second derivative", 45, 52, _EXP),
        ("BSTAR drag term", 54, 61, _EXP),
        ("ephemeris type", 63, 63, _NUM),
        ("element set number", 65, 68, _NUM + "{4}"),
    ),
    2: (
        ("catalogue number", 3, 7, "[0-9A-Z ]{5}"),
        ("inclination", 9, 16, _ANGLE),
        ("right ascension of the ascending node", 18, 25, _ANGLE),
        ("eccentricity", 27, 33, "[0-9]{7}"),
        ("argument of perigee", 35, 42, _ANGLE),
        ("mean anomaly", 44, 51, _ANGLE),
        ("mean motion", 53, 63, _NUM + r"{2}\." + _NUM + "{8}"),
        ("revolution number", 64, 68, _NUM + "{5}"),
    ),
}


def _check_fields(line: str, no: int, source: str) -> None:
    if line[:2] != "%d " % no:
        raise TleError("%s line %d must start with '%d ', got %r" % (source, no, no, line[:2]))
    for name, first, last, pattern in _FIELDS[no]:
        text = line[first - 1 : last]
        if not re.fullmatch(pattern, text):
            raise TleError(
                "%s line %d columns %d-%d (%s): malformed, got %r" % (source, no, first, last, name, text)
            )


class Tle:
    """One two-line element set, checked (layout, checksums, catalogue numbers) and ready for SGP4."""

    def __init__(self, line1: str, line2: str, name: str = "", source: str = "TLE") -> None:
        for no, line in ((1, line1), (2, line2)):
            if len(line) != 69:
                raise TleError("%s line %d must be 69 characters, got %d" % (source, no, len(line)))
            _check_fields(line, no, source)
            if not line[68].isdigit() or int(line[68]) != _checksum(line):
                raise TleError(
                    "%s line %d: bad checksum (expected %d, got %r)" % (source, no, _checksum(line), line[68])
                )
        if line1[2:7] != line2[2:7]:
            raise TleError(
                "%s: lines 1 and 2 are for different satellites (%s, %s)"
                % (source, line1[2:7].strip(), line2[2:7].strip())
            )
        try:
            satrec = Satrec.twoline2rv(line1, line2)
        except (ValueError, IndexError) as exc:
            raise TleError("%s: %s" % (source, " ".join(str(exc).split()) or "malformed elements")) from None
        if satrec.error:
            raise TleError("%s: SGP4 refuses the elements: %s" % (source, SGP4_ERRORS[satrec.error]))
        if not satrec.no_kozai > 0:
            raise TleError("%s: mean motion must be above 0" % source)
        self.line1, self.line2 = line1, line2
        self.name = name or "NORAD %s" % line1[2:7].strip()
        self.satrec = satrec

    @classmethod
    def parse(cls, text: str, source: str = "TLE") -> Tle:
        """Two lines, or three with a name first ('0 NAME' or 'NAME'); blank lines are ignored."""
        lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
        if len(lines) == 3:
            name = lines[0][2:] if lines[0].startswith("0 ") else lines[0]
            return cls(lines[1], lines[2], name.strip(), source)
        if len(lines) == 2:
            return cls(lines[0], lines[1], "", source)
        if sum(ln.startswith("1 ") for ln in lines) > 1:
            raise TleError("%s holds more than one TLE; give a file with one satellite's" % source)
        raise TleError(
            "%s must hold one TLE (2 lines, or 3 with a name), got %d lines" % (source, len(lines))
        )

    @property
    def epoch_unix(self) -> float:
        s = self.satrec
        return ((s.jdsatepoch - UNIX_EPOCH_JD) + s.jdsatepochF) * DAY_S

    @property
    def period_s(self) -> float:
        return 2.0 * math.pi / self.satrec.no_kozai * 60.0  # no_kozai: rad/min

    def teme_km(self, t_unix: np.ndarray) -> np.ndarray:
        """TEME positions (km), shape (n, 3), at Unix times (UTC)."""
        t = np.atleast_1d(np.asarray(t_unix, dtype=float))
        days = np.floor(t / DAY_S)
        err, r, _v = self.satrec.sgp4_array(UNIX_EPOCH_JD + days, (t - days * DAY_S) / DAY_S)
        if err.any():
            i = int(np.flatnonzero(err)[0])
            raise PassError(
                "SGP4 cannot propagate %s to %s: %s" % (self.name, iso(float(t[i])), SGP4_ERRORS[int(err[i])])
            )
        return r


def load_tle(path: str) -> Tle:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            text = fh.read(1 << 20)
    except OSError as exc:
        raise TleError("cannot read TLE file %s: %s" % (path, exc.strerror or exc)) from None
    return Tle.parse(text, path)


def gmst_rad(t_unix: np.ndarray) -> np.ndarray:
    """Greenwich mean sidereal time (IAU 1982, the angle from TEME to Earth-fixed), UT1 = UTC."""
    t = np.asarray(t_unix, dtype=float)
    days = np.floor(t / DAY_S)
    tut1 = ((UNIX_EPOCH_JD - 2451545.0 + days) + (t - days * DAY_S) / DAY_S) / 36525.0
    sec = ((-6.2e-6 * tut1 + 0.093104) * tut1 + (876600.0 * 3600.0 + 8640184.812866)) * tut1 + 67310.54841
    return np.radians(sec / 240.0) % (2.0 * math.pi)


def elevation_deg(station: Station, r_km: np.ndarray, earth_angle_rad: np.ndarray) -> np.ndarray:
    """Elevation (deg) of inertial positions r_km (n, 3) for an Earth turned by earth_angle_rad."""
    r = np.atleast_2d(r_km)
    c, s = np.cos(earth_angle_rad), np.sin(earth_angle_rad)
    d = np.stack((c * r[:, 0] + s * r[:, 1], -s * r[:, 0] + c * r[:, 1], r[:, 2]), axis=-1)
    d -= station.ecef_km()
    return np.degrees(np.arcsin(d @ station.up() / np.linalg.norm(d, axis=-1)))


def sat_elevation_deg(tle: Tle, station: Station, t_unix: np.ndarray) -> np.ndarray:
    t = np.atleast_1d(np.asarray(t_unix, dtype=float))
    return elevation_deg(station, tle.teme_km(t), gmst_rad(t))


@dataclass(frozen=True)
class Pass:
    """One pass: AOS and LOS (Unix s) at the station's mask, the highest elevation and when.

    `aos_clipped`/`los_clipped`: the satellite was already/still above the mask at the edge of
    the searched time (half an orbit beyond the span), so that end is not a real AOS/LOS."""

    aos: float
    los: float
    max_time: float
    max_elevation_deg: float
    aos_clipped: bool = False
    los_clipped: bool = False

    @property
    def duration_s(self) -> float:
        return self.los - self.aos

    def to_dict(self) -> dict[str, object]:
        return {
            "aos": iso(self.aos),
            "los": iso(self.los),
            "max_time": iso(self.max_time),
            "max_elevation_deg": round(self.max_elevation_deg, 3),
            "duration_s": round(self.duration_s, 2),
            "aos_unix": round(self.aos, 3),
            "los_unix": round(self.los, 3),
            "max_time_unix": round(self.max_time, 3),
            "aos_clipped": self.aos_clipped,
            "los_clipped": self.los_clipped,
        }


def _bisect(f, lo: np.ndarray, hi: np.ndarray, tol: float = TIME_TOL_S) -> tuple[np.ndarray, np.ndarray]:
    """Shrink every [lo, hi] (f(lo) false, f(hi) true; f vectorised) until hi - lo < tol."""
    lo, hi = lo.astype(float), hi.astype(float)
    if lo.size:
        for _ in range(max(1, math.ceil(math.log2(max(float(np.max(hi - lo)), tol) / tol)) + 1)):
            mid = 0.5 * (lo + hi)
            yes = f(mid)
            hi = np.where(yes, mid, hi)
            lo = np.where(yes, lo, mid)
    return lo, hi


def find_passes(tle: Tle, station: Station, start: float, end: float, step_s: float = STEP_S) -> list[Pass]:
    """The passes above the station's mask that overlap [start, end) (Unix s), in time order.

    A pass in progress at `start` is included with its real AOS (before `start`); one that
    begins before `end` with its real LOS (after `end`)."""
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise PassError("the time span must end after it starts (start %r, end %r)" % (start, end))
    if not (math.isfinite(step_s) and 0.1 <= step_s <= 600.0):
        raise PassError("step must be 0.1..600 s, got %r" % (step_s,))
    if end - start > MAX_SPAN_DAYS * DAY_S:
        raise PassError(
            "the time span must be at most %g days (a TLE is good for days, not months), got %.1f"
            % (MAX_SPAN_DAYS, (end - start) / DAY_S)
        )
    mask = station.mask_deg
    margin = min(0.5 * tle.period_s, DAY_S)
    n = int(math.ceil((end - start + 2.0 * margin) / step_s)) + 1
    t = start - margin + step_s * np.arange(n)

    def el(x: np.ndarray) -> np.ndarray:
        return sat_elevation_deg(tle, station, x) - mask

    e = el(t)
    # local maxima of the grid, then the true maximum between the neighbours (slope sign bisection)
    peaks = np.flatnonzero((e[1:-1] > e[:-2]) & (e[1:-1] >= e[2:])) + 1
    h = 0.25 * TIME_TOL_S
    _, tmax = _bisect(lambda x: el(x + h) < el(x - h), t[peaks - 1], t[peaks + 1])
    emax = el(tmax)
    # the edges of the grid count as maxima when the satellite is above the mask there
    edges = [i for i in (0, n - 1) if e[i] >= 0.0]
    tmax, emax = np.concatenate((tmax, t[edges])), np.concatenate((emax, e[edges]))
    keep = emax >= 0.0
    tmax, emax = tmax[keep], emax[keep]
    if not tmax.size:
        return []
    # one pass per stretch above the mask: bracketed by the grid samples below it on either side
    below = np.flatnonzero(e < 0.0)
    i_before = np.searchsorted(below, np.searchsorted(t, tmax, side="right") - 1, side="right") - 1
    i_after = np.searchsorted(below, np.searchsorted(t, tmax, side="left"), side="left")
    best: dict[tuple[int, int], int] = {}
    for k, key in enumerate(zip(i_before.tolist(), i_after.tolist())):
        if key not in best or emax[k] > emax[best[key]]:
            best[key] = k
    order = sorted(best.items(), key=lambda kv: tmax[kv[1]])
    ks = np.array([k for _, k in order])
    aos_clip = np.array([ib < 0 for (ib, _), _ in order])
    los_clip = np.array([ia >= below.size for (_, ia), _ in order])
    lo = np.array([t[below[ib]] if ib >= 0 else t[0] for (ib, _), _ in order])
    hi = np.array([t[below[ia]] if ia < below.size else t[-1] for (_, ia), _ in order])
    _, aos = _bisect(lambda x: el(x) >= 0.0, lo, tmax[ks])
    los, _ = _bisect(lambda x: el(x) < 0.0, tmax[ks], hi)
    aos = np.where(aos_clip, t[0], aos)
    los = np.where(los_clip, t[-1], los)
    return [
        Pass(float(a), float(b), float(tm), float(em + mask), bool(ac), bool(lc))
        for a, b, tm, em, ac, lc in zip(aos, los, tmax[ks], emax[ks], aos_clip, los_clip)
        if b > start and a < end
    ]


def iso(t_unix: float) -> str:
    """'2019-12-09T16:38:29.1Z': UTC to a tenth of a second."""
    d = datetime.fromtimestamp(round(t_unix, 1), tz=timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%dZ" % (d.microsecond // 100_000)


def parse_time(text: str, tle: Tle | None = None) -> float:
    """'now', 'epoch' (the TLE's) or an ISO 8601 time (UTC unless it says otherwise) -> Unix s."""
    word = text.strip().lower()
    if word == "now":
        return datetime.now(timezone.utc).timestamp()
    if word == "epoch":
        if tle is None:
            raise PassError("'epoch' needs a TLE")
        return tle.epoch_unix
    try:
        d = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PassError(
            "time must be 'now', 'epoch' or ISO 8601 like 2026-11-30T12:00:00Z, got %r" % text
        ) from None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.timestamp()
