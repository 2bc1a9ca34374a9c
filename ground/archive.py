"""Telemetry archive on SQLite (embedded, zero set-up): raw frames, packets, parameter samples,
events and command history, partitioned by spacecraft (SCID).

Writes are batched in one transaction per call (`ingest_packets`, `ingest_samples`), the
database runs in WAL mode so `watch` can read while the link writes, and parameter samples
are stored the way Yamcs' parameter archive does it: in segments (one row holds up to
SEGMENT samples of one parameter as two float64 arrays), clustered on (scid, param, t_start).
A one-parameter, one-day query then reads ~90 rows and hands back numpy arrays instead of
86,400 Python tuples. Re-received samples (same parameter, same time) are dropped at query
time, so a retransmitted frame never duplicates telemetry.

Onboard time starts again after a spacecraft reset, so samples are keyed by an *epoch* too
(one per onboard-time restart the ground has seen; `next_epoch` finds it): a reset never
overwrites or hides what an earlier boot sent at the same onboard time.

Reading never changes the file: `Archive(path, readonly=True)` opens it read-only (SQLite
`mode=ro`), so `cubesat archive` on an empty file, a text file or another program's database
adds no tables and no WAL; such a file is refused with an `ArchiveError` naming it. A writer
also refuses a database that already holds another program's tables.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ground.errors import GroundError

SEGMENT = 1000  # samples per stored segment

SCHEMA = """
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, t REAL NOT NULL, vcid INTEGER, raw BLOB NOT NULL,
    corrected INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS packets (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, t REAL NOT NULL, apid INTEGER NOT NULL,
    service INTEGER, subtype INTEGER, seq INTEGER, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS params (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS segments (
    scid INTEGER NOT NULL, param INTEGER NOT NULL, epoch INTEGER NOT NULL, t_start REAL NOT NULL,
    t_end REAL NOT NULL, n INTEGER NOT NULL, times BLOB NOT NULL, vals BLOB NOT NULL,
    PRIMARY KEY (scid, param, epoch, t_start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, t REAL NOT NULL, severity INTEGER, name TEXT, data TEXT);
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, t REAL NOT NULL, name TEXT NOT NULL, args TEXT,
    apid INTEGER, seq INTEGER, status TEXT NOT NULL DEFAULT 'sent', failure_code INTEGER, updated REAL);
CREATE INDEX IF NOT EXISTS packets_by_time ON packets (scid, t);
CREATE INDEX IF NOT EXISTS commands_by_seq ON commands (scid, apid, seq);
"""


REQUIRED_TABLES = ("params", "segments")  # what every archive has, whatever its age


class ArchiveError(GroundError):
    """The file cannot serve as a telemetry archive; the message names it and says why."""


class Archive:
    def __init__(self, path: str | Path = ":memory:", *, readonly: bool = False) -> None:
        """Open (or create) the archive at `path`.

        readonly: open an existing archive for queries only; the file is never written.
        Raises ArchiveError for a missing (readonly) or unopenable file, a file that is not
        SQLite, or a database of another program.
        """
        self.path = str(path)
        self.readonly = readonly
        if readonly and Path(self.path).is_dir():
            raise ArchiveError("%s is a folder, not an archive file" % self.path)
        if readonly and (self.path == ":memory:" or not Path(self.path).is_file()):
            raise ArchiveError("no archive at %s" % self.path)
        try:
            if readonly:
                uri = Path(self.path).resolve().as_uri() + "?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            else:
                self.db = sqlite3.connect(self.path, check_same_thread=False)
        except sqlite3.Error as exc:
            hint = "" if readonly else " (does its folder exist, and may you write there?)"
            raise ArchiveError("cannot open archive %s: %s%s" % (self.path, exc, hint)) from None
        try:
            self._open()
        except BaseException:
            self.db.close()
            raise

    def _open(self) -> None:
        try:
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.OperationalError as exc:
            raise ArchiveError("cannot open archive %s: %s" % (self.path, exc)) from None
        except sqlite3.DatabaseError:  # "file is not a database"
            raise ArchiveError("not a cubesat archive: %s is not an SQLite database" % self.path) from None
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing and (self.readonly or tables):
            if not tables:
                why = "empty" if Path(self.path).stat().st_size == 0 else "an empty database"
            else:
                why = "another program's database (tables %s)" % ", ".join(sorted(tables)[:5])
            raise ArchiveError("not a cubesat archive: %s is %s" % (self.path, why))
        try:
            if not self.readonly:
                if self.path != ":memory:":
                    self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(SCHEMA)
            columns = {r[1] for r in self.db.execute("PRAGMA table_info(segments)")}
            if "epoch" not in columns:
                raise ArchiveError(
                    "archive %s is from an older cubesat (no epoch in its samples); export it with "
                    "that version or start a new archive" % self.path
                )
            self._param_ids: dict[str, int] = {}
            for pid, name in self.db.execute("SELECT id, name FROM params"):
                self._param_ids[name] = pid
        except sqlite3.DatabaseError as exc:
            raise ArchiveError("cannot use archive %s: %s" % (self.path, exc)) from None

    def close(self) -> None:
        if not self.readonly and self.path != ":memory:":
            try:  # back to a single file: readers (mode=ro) then need no -wal/-shm beside it
                self.db.execute("PRAGMA journal_mode=DELETE")
            except sqlite3.Error:
                pass  # another connection still has it open: it stays in WAL mode
        self.db.close()

    def param_id(self, name: str) -> int:
        pid = self._param_ids.get(name)
        if pid is None:
            cur = self.db.execute("INSERT OR IGNORE INTO params (name) VALUES (?)", (name,))
            pid = (
                cur.lastrowid or self.db.execute("SELECT id FROM params WHERE name=?", (name,)).fetchone()[0]
            )
            self._param_ids[name] = pid
        return pid

    # --- ingest -------------------------------------------------------------------------------
    def ingest_frames(self, scid: int, rows: Iterable[tuple[float, int, bytes, int]]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT INTO frames (scid, t, vcid, raw, corrected) VALUES (?, ?, ?, ?, ?)",
                ((scid, t, vc, raw, fixed) for t, vc, raw, fixed in rows),
            )

    def ingest_packets(self, scid: int, rows: Iterable[tuple[float, int, int, int, int, bytes]]) -> None:
        """rows: (t, apid, service, subtype, seq, raw)."""
        with self.db:
            self.db.executemany(
                "INSERT INTO packets (scid, t, apid, service, subtype, seq, raw) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((scid, *row) for row in rows),
            )

    def next_epoch(self, scid: int, t: float) -> int:
        """The epoch for a sample at onboard time `t` that arrives now: the newest one, or a new
        one when `t` lies before what that epoch already holds (the spacecraft's clock restarted)."""
        row = self.db.execute("SELECT MAX(epoch) FROM segments WHERE scid=?", (scid,)).fetchone()
        if row is None or row[0] is None:
            return 0
        epoch = int(row[0])
        last = self.db.execute(
            "SELECT MAX(t_end) FROM segments WHERE scid=? AND epoch=?", (scid, epoch)
        ).fetchone()[0]
        return epoch + 1 if last is not None and t < last else epoch

    def epoch_at(self, scid: int, t: float) -> int:
        """The epoch a sample made at onboard time `t` belongs to when it arrives late (played
        back): the newest epoch whose samples reach back to `t`, else the newest."""
        row = self.db.execute(
            "SELECT MAX(epoch) FROM segments WHERE scid=? AND t_start<=?", (scid, t)
        ).fetchone()
        if row is not None and row[0] is not None:
            return int(row[0])
        row = self.db.execute("SELECT MAX(epoch) FROM segments WHERE scid=?", (scid,)).fetchone()
        return 0 if row is None or row[0] is None else int(row[0])

    def epochs(self, scid: int) -> list[int]:
        return [
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT epoch FROM segments WHERE scid=? ORDER BY epoch", (scid,)
            )
        ]

    def ingest_samples(self, scid: int, rows: Iterable[tuple[str, float, float]], epoch: int = 0) -> None:
        """rows: (parameter name, t, value) of one epoch; stored as one or more segments per parameter."""
        by_param: dict[int, list[tuple[float, float]]] = {}
        for name, t, value in rows:
            by_param.setdefault(self.param_id(name), []).append((t, value))
        with self.db:
            for pid, pairs in by_param.items():
                pairs.sort()
                for i in range(0, len(pairs), SEGMENT):
                    chunk = np.asarray(pairs[i : i + SEGMENT], dtype=np.float64)
                    self.db.execute(
                        "INSERT OR REPLACE INTO segments (scid, param, epoch, t_start, t_end, n, "
                        "times, vals) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            scid,
                            pid,
                            epoch,
                            float(chunk[0, 0]),
                            float(chunk[-1, 0]),
                            len(chunk),
                            chunk[:, 0].tobytes(),
                            chunk[:, 1].tobytes(),
                        ),
                    )

    def log_event(self, scid: int, t: float, severity: int, name: str, data: dict | None = None) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO events (scid, t, severity, name, data) VALUES (?, ?, ?, ?, ?)",
                (scid, t, severity, name, json.dumps(data or {})),
            )

    def log_command(
        self, scid: int, name: str, args: dict, apid: int, seq: int, t: float | None = None
    ) -> int:
        with self.db:
            cur = self.db.execute(
                "INSERT INTO commands (scid, t, name, args, apid, seq, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (scid, t if t is not None else time.time(), name, json.dumps(args), apid, seq, time.time()),
            )
        return int(cur.lastrowid or 0)

    def update_command(
        self, scid: int, apid: int, seq: int, status: str, failure_code: int | None = None
    ) -> int:
        """Record a verification stage for the newest command with this request id."""
        with self.db:
            cur = self.db.execute(
                "UPDATE commands SET status=?, failure_code=?, updated=? "
                "WHERE id = (SELECT MAX(id) FROM commands WHERE scid=? AND apid=? AND seq=?)",
                (status, failure_code, time.time(), scid, apid, seq),
            )
        return cur.rowcount

    # --- queries -------------------------------------------------------------------------------
    def samples(
        self, scid: int, name: str, t0: float, t1: float, epoch: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) of one parameter with t0 <= t < t1, duplicates removed; in time order
        within each epoch, epochs one after the other (all of them unless `epoch` is given)."""
        pid = self._param_ids.get(name)
        empty = (np.empty(0), np.empty(0))
        if pid is None:
            return empty
        sql = "SELECT epoch, times, vals FROM segments WHERE scid=? AND param=? AND t_start<? AND t_end>=?"
        args: tuple = (scid, pid, t1, t0)
        if epoch is not None:
            sql += " AND epoch=?"
            args += (epoch,)
        rows = self.db.execute(sql + " ORDER BY epoch, t_start", args).fetchall()
        if not rows:
            return empty
        parts_t, parts_v = [], []
        for ep in sorted({r[0] for r in rows}):
            mine = [r for r in rows if r[0] == ep]
            times = np.concatenate([np.frombuffer(r[1]) for r in mine])
            vals = np.concatenate([np.frombuffer(r[2]) for r in mine])
            keep = (times >= t0) & (times < t1)
            times, vals = times[keep], vals[keep]
            if len(mine) > 1 and len(times) and not np.all(np.diff(times) > 0):
                times, idx = np.unique(times, return_index=True)  # overlapping segments: sort, dedupe
                vals = vals[idx]
            parts_t.append(times)
            parts_v.append(vals)
        if len(parts_t) == 1:
            return parts_t[0], parts_v[0]
        return np.concatenate(parts_t), np.concatenate(parts_v)

    def parameters(self) -> list[str]:
        return sorted(self._param_ids)

    def packet_count(self, scid: int | None = None) -> int:
        if scid is None:
            return int(self.db.execute("SELECT COUNT(*) FROM packets").fetchone()[0])
        return int(self.db.execute("SELECT COUNT(*) FROM packets WHERE scid=?", (scid,)).fetchone()[0])

    def commands(self, scid: int) -> list[tuple]:
        return self.db.execute(
            "SELECT name, args, apid, seq, status, failure_code FROM commands WHERE scid=? ORDER BY id",
            (scid,),
        ).fetchall()

    def events(self, scid: int) -> list[tuple]:
        return self.db.execute(
            "SELECT t, severity, name, data FROM events WHERE scid=? ORDER BY t", (scid,)
        ).fetchall()


def export_csv(times: Sequence[float], values: Sequence[float], name: str) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["t", name])
    w.writerows(zip(map(float, times), map(float, values)))
    return out.getvalue()


def export_json(times: Sequence[float], values: Sequence[float], name: str) -> str:
    samples = [{"t": float(t), "value": float(v)} for t, v in zip(times, values)]
    return json.dumps({"parameter": name, "samples": samples})
