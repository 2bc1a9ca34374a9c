"""`cubesat history` and `cubesat events`: the archive's commands and events as a table, CSV or JSON.

They read the ground server's archive directly (`SqliteStore(path, readonly=True)`) or ask a
running server (`GroundClient.fetch`); both give the same rows, shaped here, and page the same
way (`GroundStore.page` under the API and the file alike, `collect_pages` over it): any number of
rows, 10000 per page, and a cursor (`--after ID`) to go on from.

    parse_time("-2h"), parse_time("2026-11-30T10:00Z"), parse_time("1764496800")  -> Unix seconds
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import time
from collections.abc import Callable
from typing import Any

from ground.errors import GroundError
from ground.pus.events import SEVERITY
from ground.server.client import Page, collect_pages
from ground.server.errors import ConfigError

_RELATIVE = re.compile(r"^-(\d+(?:\.\d*)?)\s*(s|m|min|h|d|w)$")
_UNIT_S = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
TIME_HELP = (
    "ISO 8601 (2026-11-30T10:00Z; UTC unless it says otherwise), relative (-30m, -2h, -7d), "
    "Unix seconds or now"
)


class TimeError(GroundError, ValueError):
    """A --since/--until that is not a time; the message says which forms are."""


def parse_time(text: str, now: float | None = None) -> float:
    """Unix seconds from ISO 8601, a relative time before now (-2h) or Unix seconds."""
    s = text.strip()
    now = time.time() if now is None else now
    if s == "now":
        return now
    m = _RELATIVE.match(s)
    if m:
        return now - float(m.group(1)) * _UNIT_S[m.group(2)]
    if re.fullmatch(r"\d{9,}(\.\d*)?", s):
        return float(s)
    try:
        when = dt.datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise TimeError("not a time: %r; give %s" % (text, TIME_HELP)) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()


def iso(t: float | None) -> str:
    if t is None:
        return ""
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- where the rows come from ----------------------------------------------------------------------
class Source:
    """Rows of one archive, read directly or through a server; `names` maps SCID -> name."""

    def __init__(
        self, fetch: Callable[[str, float, float | None, Any, int, int], Page], names: dict[int, str]
    ):
        self.fetch = fetch
        self.names = names


def archive_source(path: str, names: dict[int, str], spacecraft: str | None) -> tuple[Source, Any]:
    """(Source, spacecraft filter) for the archive file at `path`. `spacecraft` is a name from the
    config (`names`) or a SCID; one the archive and the config do not know is refused."""
    from ground.server.store import SqliteStore

    store = SqliteStore(path, readonly=True)  # ConfigError: missing file, not an archive, no history
    scid = None
    if spacecraft is not None:
        by_name = {n: s for s, n in names.items()}
        known = sorted(set(store.spacecraft_ids()) | set(names))
        if spacecraft in by_name:
            scid = by_name[spacecraft]
        elif spacecraft.isdigit() and int(spacecraft) in known:
            scid = int(spacecraft)
        else:
            store.close()
            shown = ", ".join("%s (scid %d)" % (names[s], s) if s in names else "scid %d" % s for s in known)
            raise ConfigError(
                "unknown spacecraft %r; the archive %s has %s" % (spacecraft, path, shown or "none yet")
            )

    def fetch(what: str, since: float, until: float | None, sc: Any, limit: int, after: int) -> Page:
        return collect_pages(lambda a, n: store.page(what, sc, since, until, a, n), limit, after)

    src = Source(fetch, names)
    src.close = store.close  # type: ignore[attr-defined]
    return src, scid


def server_source(url: str, token: str | None, spacecraft: str | None) -> tuple[Source, Any]:
    """(Source, spacecraft filter) through a running server's API (ClientError if it refuses)."""
    from ground.server.client import GroundClient

    gs = GroundClient(url, token, None)
    names = gs.spacecraft_names()
    if spacecraft is not None and spacecraft not in names.values():
        known = ", ".join(sorted(names.values()))
        raise ConfigError("unknown spacecraft %r; the server at %s has %s" % (spacecraft, url, known))

    def fetch(what: str, since: float, until: float | None, sc: Any, limit: int, after: int) -> Page:
        return gs.fetch(what, since, until, sc, limit, after)

    src = Source(fetch, names)
    src.close = lambda: None  # type: ignore[attr-defined]
    return src, spacecraft


# --- shaping the rows ----------------------------------------------------------------------------------
def _stage_text(row: dict) -> str:
    stages = row.get("stages") or []
    if not stages:
        return ""
    t0 = stages[0]["t"]
    return ", ".join(
        s["stage"] if i == 0 else "%s +%.0f ms" % (s["stage"], (s["t"] - t0) * 1000)
        for i, s in enumerate(stages)
    )


def _round_trip_ms(row: dict) -> float | None:
    stages = row.get("stages") or []
    if row.get("status") in ("completed", "failed", "rejected") and len(stages) > 1:
        return round((stages[-1]["t"] - stages[0]["t"]) * 1000, 1)
    return None


def _args_text(args: dict) -> str:
    return " ".join("%s=%s" % kv for kv in args.items())


def command_rows(rows: list[dict], names: dict[int, str]) -> list[dict]:
    out = []
    for r in rows:
        out.append(
            {
                "id": r["id"],
                "time_utc": iso(r["t"]),
                "t": r["t"],
                "spacecraft": names.get(r["scid"], str(r["scid"])),
                "scid": r["scid"],
                "user": r["user"],
                "role": r.get("role"),
                "command": r["name"],
                "args": r.get("args") or {},
                "status": r["status"],
                "failure_code": r.get("failure_code"),
                "failure": r.get("failure") or "",
                "round_trip_ms": _round_trip_ms(r),
                "stages": [
                    {
                        "stage": s["stage"],
                        "time_utc": iso(s["t"]),
                        "t": s["t"],
                        "detail": s.get("detail") or "",
                    }
                    for s in r.get("stages") or []
                ],
                "_stages_text": _stage_text(r),
            }
        )
    return out


def event_rows(rows: list[dict], names: dict[int, str]) -> list[dict]:
    return [
        {
            "id": r["id"],
            "time_utc": iso(r["t_ground"]),
            "t_ground": r["t_ground"],
            "t_onboard": r.get("t_onboard"),
            "spacecraft": names.get(r["scid"], str(r["scid"])),
            "scid": r["scid"],
            "severity": r["severity"],
            "severity_name": SEVERITY.get(r["severity"], str(r["severity"])),
            "event": r["name"],
            "text": r.get("text") or "",
            "args": r.get("args") or {},
        }
        for r in rows
    ]


def _table(header: list[str], body: list[list[str]]) -> str:
    widths = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in body]
    return "\n".join(lines) + "\n"


def _csv(header: list[str], body: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    return buf.getvalue()


def format_commands(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return (
            json.dumps([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows], indent=1) + "\n"
        )
    if fmt == "csv":
        header = ["id", "time_utc", "spacecraft", "scid", "user", "role", "command", "args", "status",
                  "failure_code", "failure", "round_trip_ms", "stages"]  # fmt: skip
        body = [
            [r["id"], r["time_utc"], r["spacecraft"], r["scid"], r["user"], r["role"], r["command"],
             json.dumps(r["args"]), r["status"], "" if r["failure_code"] is None else r["failure_code"],
             r["failure"], "" if r["round_trip_ms"] is None else r["round_trip_ms"],
             "; ".join("%s %s" % (s["stage"], s["time_utc"]) for s in r["stages"])]
            for r in rows
        ]  # fmt: skip
        return _csv(header, body)
    header = ["id", "time (UTC)", "spacecraft", "user", "command", "status", "stages", "failure"]
    body = [
        [str(r["id"]), r["time_utc"].replace("T", " ").rstrip("Z"), r["spacecraft"], r["user"],
         (r["command"] + " " + _args_text(r["args"])).strip(), r["status"], r["_stages_text"], r["failure"]]
        for r in rows
    ]  # fmt: skip
    return _table(header, body)


def format_events(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=1) + "\n"
    if fmt == "csv":
        header = ["id", "time_utc", "t_onboard", "spacecraft", "scid", "severity", "severity_name", "event",
                  "text", "args"]  # fmt: skip
        body = [
            [r["id"], r["time_utc"], "" if r["t_onboard"] is None else r["t_onboard"], r["spacecraft"],
             r["scid"], r["severity"], r["severity_name"], r["event"], r["text"], json.dumps(r["args"])]
            for r in rows
        ]  # fmt: skip
        return _csv(header, body)
    header = ["id", "time (UTC)", "onboard s", "spacecraft", "severity", "event", "text"]
    body = [
        [str(r["id"]), r["time_utc"].replace("T", " ").rstrip("Z"),
         "" if r["t_onboard"] is None else "%.1f" % r["t_onboard"], r["spacecraft"],
         "%d %s" % (r["severity"], r["severity_name"]), r["event"], r["text"]]
        for r in rows
    ]  # fmt: skip
    return _table(header, body)
