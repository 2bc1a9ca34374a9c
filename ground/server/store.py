"""The ground server's archive behind one small interface (`GroundStore`, in store_interface.py),
SQLite by default.

What goes in: every TM packet raw and decoded (ground receive time and onboard time), every
event, every command with its user and each verification stage with its time, and link
statistics. Housekeeping values also go into `ground.archive.Archive`'s parameter segments in
the same file, so `cubesat archive query/plot` read a server's archive as they read `watch`'s.

A server database (PostgreSQL, ...) implements `GroundStore` and nothing else changes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ground.archive import Archive, ArchiveError
from ground.server.clock import WALL, Clock
from ground.server.errors import ConfigError
from ground.server.store_interface import GroundStore
from ground.server.transfer_store import TRANSFER_SCHEMA, TransferArchive

log = logging.getLogger("cubesat.ground.store")

SCHEMA = """
CREATE TABLE IF NOT EXISTS tm_packets (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, t_ground REAL NOT NULL, t_onboard REAL,
    apid INTEGER, seq INTEGER, service INTEGER, subtype INTEGER, raw BLOB NOT NULL, decoded TEXT);
CREATE INDEX IF NOT EXISTS tm_packets_by_time ON tm_packets (t_ground);
CREATE INDEX IF NOT EXISTS tm_packets_by_onboard ON tm_packets (scid, t_onboard);
CREATE TABLE IF NOT EXISTS tm_events (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, t_ground REAL NOT NULL, t_onboard REAL,
    severity INTEGER, name TEXT, args TEXT, text TEXT, packet_id INTEGER);
CREATE INDEX IF NOT EXISTS tm_events_by_time ON tm_events (t_ground);
CREATE TABLE IF NOT EXISTS cmd_history (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, t REAL NOT NULL, user TEXT NOT NULL,
    role TEXT, name TEXT NOT NULL, args TEXT, apid INTEGER, seq INTEGER,
    status TEXT NOT NULL, failure_code INTEGER, failure TEXT, reply_packet INTEGER);
CREATE TABLE IF NOT EXISTS cmd_stages (
    command_id INTEGER NOT NULL, t REAL NOT NULL, stage TEXT NOT NULL, subtype INTEGER, detail TEXT);
CREATE INDEX IF NOT EXISTS cmd_stages_by_cmd ON cmd_stages (command_id);
CREATE TABLE IF NOT EXISTS link_stats (
    scid INTEGER NOT NULL, t REAL NOT NULL, stats TEXT NOT NULL);
"""


def _packet_row(r: tuple) -> dict:
    return {
        "id": r[0],
        "scid": r[1],
        "t_ground": r[2],
        "t_onboard": r[3],
        "apid": r[4],
        "seq": r[5],
        "service": r[6],
        "subtype": r[7],
        "raw": r[8].hex(),
        "data": json.loads(r[9] or "{}"),
    }


_PACKET_COLS = "id, scid, t_ground, t_onboard, apid, seq, service, subtype, raw, decoded"
_COMMAND_COLS = "id, scid, t, user, role, name, args, apid, seq, status, failure_code, failure, reply_packet"


class SqliteStore(TransferArchive, GroundStore):
    """The archive in one SQLite file, written behind: callers (the link threads, the API) never
    wait for SQLite. Writes go to a queue that one writer thread commits in batches (every
    `batch_s`, one transaction); ids are handed out at once from counters, so a packet or a
    command has its id before it is on disk. Every read first waits for the writes queued before
    it (read-your-writes). A crash loses at most the last batch. One server writes a file.

    readonly: open an existing server archive for queries (`cubesat history/events`); the file
    is never written, and one without the server's tables is refused (ConfigError says why)."""

    def __init__(self, path: str, readonly: bool = False, batch_s: float = 0.02, clock: Clock = WALL) -> None:
        self.clock = clock  # the time commands, stages and link statistics are filed at
        try:
            self.archive = Archive(path, readonly=readonly)
        except ArchiveError as exc:
            raise ConfigError("archive: %s" % exc) from None
        self.db = self.archive.db
        if readonly:
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not {"cmd_history", "cmd_stages", "tm_events", "tm_packets"} <= tables:
                self.archive.close()
                raise ConfigError(
                    "archive %s holds no ground-server history (written by `cubesat mission` or "
                    "`watch`?); give the archive of `cubesat ground`" % path
                )
        else:
            self.db.executescript(SCHEMA + TRANSFER_SCHEMA)
        self.lock = threading.RLock()  # the connection
        self.batch_s = batch_s
        self._next = {
            t: int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM %s" % t).fetchone()[0]) + 1
            for t in ("tm_packets", "tm_events", "cmd_history") + (() if readonly else ("file_transfers",))
        }
        self._cond = threading.Condition()
        self._queue: list[Callable[[], None] | tuple[str, tuple]] = []
        self._queued = 0  # writes queued so far, and written (committed) so far
        self._written = 0
        self._closing = False
        self._urgent = False
        self.rows_written = 0  # rows committed, and batches and seconds it took (benchmarks)
        self.batches = 0
        self.busy_s = 0.0
        self._writer: threading.Thread | None = None
        if not readonly:
            self._writer = threading.Thread(target=self._write_loop, name="archive-writer", daemon=True)
            self._writer.start()

    # --- the write queue --------------------------------------------------------------------------
    def _id(self, table: str) -> int:
        with self._cond:
            value = self._next[table]
            self._next[table] = value + 1
            return value

    def _put(self, *items: Callable[[], None] | tuple[str, tuple]) -> None:
        with self._cond:
            if self._closing:
                raise ConfigError("archive %s is closed" % self.archive.path)
            self._queue.extend(items)
            self._queued += len(items)
            if len(self._queue) == len(items):
                self._cond.notify_all()

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    return
            with self._cond:  # let a batch gather (one commit for all of it), unless a reader waits
                self._cond.wait_for(lambda: self._closing or self._urgent, self.batch_s)
                batch, self._queue = self._queue, []
                self._urgent = False
            t0 = time.perf_counter()
            try:
                with self.lock, self.db:
                    for item in batch:
                        if callable(item):
                            item()
                        else:
                            self.db.execute(*item)
            except Exception:  # a full disk or a broken file: said in the log, the link goes on
                log.exception("archive write failed: %d rows lost", len(batch))
            with self._cond:
                self._written += len(batch)
                self.rows_written += len(batch)
                self.batches += 1
                self.busy_s += time.perf_counter() - t0
                self._cond.notify_all()

    def stats(self) -> dict[str, Any]:
        with self._cond:
            return {
                "rows_written": self.rows_written,
                "batches": self.batches,
                "busy_s": round(self.busy_s, 4),
                "queued": self._queued - self._written,
            }

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every write queued before this call is committed."""
        with self._cond:
            target = self._queued
            if self._written < target:
                self._urgent = True  # commit now: a reader waits
                self._cond.notify_all()
            self._cond.wait_for(lambda: self._written >= target or self._writer is None, timeout)

    # --- writes --------------------------------------------------------------------------------------
    def add_packet(self, scid, t_ground, t_onboard, header, raw, decoded) -> int:
        pid = self._id("tm_packets")
        self._put(
            (
                "INSERT INTO tm_packets (id, scid, t_ground, t_onboard, apid, seq, service, subtype, raw, "
                "decoded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (pid, scid, t_ground, t_onboard, *header, raw, json.dumps(decoded)),
            )
        )
        return pid

    def add_event(self, scid, t_ground, t_onboard, severity, name, args, text, packet_id) -> int:
        eid = self._id("tm_events")
        self._put(
            (
                "INSERT INTO tm_events (id, scid, t_ground, t_onboard, severity, name, args, text, "
                "packet_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (eid, scid, t_ground, t_onboard, severity, name, json.dumps(args), text, packet_id),
            )
        )
        return eid

    def add_samples(
        self, scid: int, t_onboard: float, values: dict[str, float], playback: bool = False
    ) -> None:
        rows = [(k, t_onboard, float(v)) for k, v in values.items()]

        def write() -> None:
            if playback:
                epoch = self.archive.epoch_at(scid, t_onboard)
            else:
                epoch = self.archive.next_epoch(scid, t_onboard)
            self.archive.ingest_samples(scid, rows, epoch)
            self.rows_written += len(rows) - 1  # the writer counts one per queued item

        self._put(write)

    def add_command(self, scid, user, role, name, args, apid, seq) -> int:
        cid = self._id("cmd_history")
        self._put(
            (
                "INSERT INTO cmd_history (id, scid, t, user, role, name, args, apid, seq, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued')",
                (cid, scid, self.clock.time(), user, role, name, json.dumps(args, default=str), apid, seq),
            )
        )
        return cid

    def add_stage(self, command_id, stage, subtype=None, detail="", status=None, failure_code=None) -> None:
        items: list[Callable[[], None] | tuple[str, tuple]] = [
            (
                "INSERT INTO cmd_stages (command_id, t, stage, subtype, detail) VALUES (?, ?, ?, ?, ?)",
                (command_id, self.clock.time(), stage, subtype, detail),
            )
        ]
        if status is not None:
            items.append(
                (
                    "UPDATE cmd_history SET status=?, failure_code=COALESCE(?, failure_code), "
                    "failure=CASE WHEN ? IS NULL THEN failure ELSE ? END WHERE id=?",
                    (status, failure_code, failure_code, detail, command_id),
                )
            )
        self._put(*items)

    def set_reply(self, command_id: int, packet_id: int) -> None:
        self._put(("UPDATE cmd_history SET reply_packet=? WHERE id=?", (packet_id, command_id)))

    def add_link_stats(self, scid: int, stats: dict) -> None:
        self._put(
            (
                "INSERT INTO link_stats (scid, t, stats) VALUES (?, ?, ?)",
                (scid, self.clock.time(), json.dumps(stats)),
            )
        )

    def has_packet(self, scid: int, key: tuple[int, int, int, int, float | None]) -> bool:
        apid, seq, service, subtype, t_onboard = key
        with self.lock:  # no flush: what is still queued is the caller's own session
            row = self.db.execute(
                "SELECT 1 FROM tm_packets WHERE scid = ? AND t_onboard IS ? AND apid = ? AND seq = ? "
                "AND service = ? AND subtype = ? LIMIT 1",
                (scid, t_onboard, apid, seq, service, subtype),
            ).fetchone()
        return row is not None

    def _rows(self, sql: str, args: tuple) -> list[tuple]:
        self.flush()
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def packets(self, scid, since, limit, service=None, after=0) -> list[dict]:
        sql = "SELECT %s FROM tm_packets WHERE t_ground >= ? AND id > ?" % _PACKET_COLS
        args: tuple[Any, ...] = (since, after)
        if scid is not None:
            sql, args = sql + " AND scid = ?", (*args, scid)
        if service is not None:
            sql, args = sql + " AND service = ?", (*args, service)
        return [_packet_row(r) for r in self._rows(sql + " ORDER BY id LIMIT ?", (*args, limit))]

    def packet(self, packet_id: int) -> dict | None:
        rows = self._rows("SELECT %s FROM tm_packets WHERE id = ?" % _PACKET_COLS, (packet_id,))
        return _packet_row(rows[0]) if rows else None

    def events(self, scid, since, limit, until=None, after=0) -> list[dict]:
        sql = (
            "SELECT id, scid, t_ground, t_onboard, severity, name, args, text, packet_id "
            "FROM tm_events WHERE t_ground >= ? AND id > ?"
        )
        args: tuple[Any, ...] = (since, after)
        if until is not None:
            sql, args = sql + " AND t_ground < ?", (*args, until)
        if scid is not None:
            sql, args = sql + " AND scid = ?", (*args, scid)
        keys = ("id", "scid", "t_ground", "t_onboard", "severity", "name", "args", "text", "packet_id")
        out = []
        for r in self._rows(sql + " ORDER BY id LIMIT ?", (*args, limit)):
            row = dict(zip(keys, r))
            row["args"] = json.loads(row["args"] or "{}")
            out.append(row)
        return out

    def _command_dicts(self, rows: list[tuple]) -> list[dict]:
        """Command rows with their stages, read in one query for all of them."""
        out = {r[0]: dict(zip(_COMMAND_COLS.split(", "), r), stages=[]) for r in rows}
        if out:
            for cid, t, s, sub, d in self._rows(
                "SELECT command_id, t, stage, subtype, detail FROM cmd_stages "
                "WHERE command_id BETWEEN ? AND ? ORDER BY rowid",
                (min(out), max(out)),
            ):
                if cid in out:
                    out[cid]["stages"].append({"t": t, "stage": s, "subtype": sub, "detail": d})
        for row in out.values():
            row["args"] = json.loads(row["args"] or "{}")
        return list(out.values())

    def command(self, command_id: int) -> dict | None:
        rows = self._rows("SELECT %s FROM cmd_history WHERE id=?" % _COMMAND_COLS, (command_id,))
        return self._command_dicts(rows)[0] if rows else None

    def commands(self, scid, since, limit, until=None, after=0) -> list[dict]:
        sql = "SELECT %s FROM cmd_history WHERE t >= ? AND id > ?" % _COMMAND_COLS
        args: tuple[Any, ...] = (since, after)
        if until is not None:
            sql, args = sql + " AND t < ?", (*args, until)
        if scid is not None:
            sql, args = sql + " AND scid = ?", (*args, scid)
        return self._command_dicts(self._rows(sql + " ORDER BY id LIMIT ?", (*args, limit)))

    def parameter_names(self) -> list[str]:
        self.flush()
        with self.lock:
            return self.archive.parameters()

    def samples(self, scid: int, name: str, t0: float, t1: float) -> tuple[list[float], list[float]]:
        self.flush()
        with self.lock:
            times, values = self.archive.samples(scid, name, t0, t1)
        return times.tolist(), values.tolist()

    def spacecraft_ids(self) -> list[int]:
        rows = self._rows(
            "SELECT scid FROM cmd_history UNION SELECT scid FROM tm_events "
            "UNION SELECT DISTINCT scid FROM tm_packets ORDER BY 1",
            (),
        )
        return [r[0] for r in rows]

    def close(self) -> None:
        """Write what is queued, stop the writer, close the file (idempotent)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._writer is not None:
            self._writer.join(30)
            self._writer = None
        with self.lock:
            self.archive.close()
