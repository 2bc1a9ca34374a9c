"""The ground server's archive behind one small interface (`GroundStore`), SQLite by default.

What goes in: every TM packet raw and decoded (ground receive time and onboard time), every
event, every command with its user and each verification stage with its time, and link
statistics. Housekeeping values also go into `ground.archive.Archive`'s parameter segments in
the same file, so `cubesat archive query/plot` read a server's archive as they read `watch`'s.

A server database (PostgreSQL, ...) implements `GroundStore` and nothing else changes.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from typing import Any

from ground.archive import Archive, ArchiveError
from ground.server.errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS tm_packets (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, t_ground REAL NOT NULL, t_onboard REAL,
    apid INTEGER, seq INTEGER, service INTEGER, subtype INTEGER, raw BLOB NOT NULL, decoded TEXT);
CREATE INDEX IF NOT EXISTS tm_packets_by_time ON tm_packets (t_ground);
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


class GroundStore(ABC):
    """What the server writes and reads; every method is thread-safe. Times are Unix seconds."""

    @abstractmethod
    def add_packet(
        self,
        scid: int,
        t_ground: float,
        t_onboard: float | None,
        header: tuple[int, int, int, int],
        raw: bytes,
        decoded: dict,
    ) -> int:
        """header: (apid, seq, service, subtype). Returns the packet id (increasing)."""

    @abstractmethod
    def add_event(
        self,
        scid: int,
        t_ground: float,
        t_onboard: float | None,
        severity: int,
        name: str,
        args: dict,
        text: str,
        packet_id: int,
    ) -> int: ...

    @abstractmethod
    def add_samples(self, scid: int, t_onboard: float, values: dict[str, float]) -> None: ...

    @abstractmethod
    def add_command(
        self, scid: int, user: str, role: str, name: str, args: dict, apid: int, seq: int
    ) -> int: ...

    @abstractmethod
    def add_stage(
        self,
        command_id: int,
        stage: str,
        subtype: int | None = None,
        detail: str = "",
        status: str | None = None,
        failure_code: int | None = None,
    ) -> None:
        """Record a stage with its time; `status` (and a failure) update the command's row."""

    @abstractmethod
    def set_reply(self, command_id: int, packet_id: int) -> None: ...

    @abstractmethod
    def add_link_stats(self, scid: int, stats: dict) -> None: ...

    @abstractmethod
    def packets(
        self, scid: int | None, since: float, limit: int, service: int | None = None
    ) -> list[dict]: ...

    @abstractmethod
    def packet(self, packet_id: int) -> dict | None: ...

    @abstractmethod
    def events(self, scid: int | None, since: float, limit: int) -> list[dict]: ...

    @abstractmethod
    def command(self, command_id: int) -> dict | None: ...

    @abstractmethod
    def commands(self, scid: int | None, since: float, limit: int) -> list[dict]: ...

    @abstractmethod
    def close(self) -> None: ...


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


class SqliteStore(GroundStore):
    def __init__(self, path: str) -> None:
        try:
            self.archive = Archive(path)
        except ArchiveError as exc:
            raise ConfigError("archive: %s" % exc) from None
        self.db = self.archive.db
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()

    def _insert(self, sql: str, args: tuple) -> int:
        with self.lock, self.db:
            return int(self.db.execute(sql, args).lastrowid or 0)

    def add_packet(self, scid, t_ground, t_onboard, header, raw, decoded) -> int:
        return self._insert(
            "INSERT INTO tm_packets (scid, t_ground, t_onboard, apid, seq, service, subtype, raw, decoded) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (scid, t_ground, t_onboard, *header, raw, json.dumps(decoded)),
        )

    def add_event(self, scid, t_ground, t_onboard, severity, name, args, text, packet_id) -> int:
        return self._insert(
            "INSERT INTO tm_events (scid, t_ground, t_onboard, severity, name, args, text, packet_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (scid, t_ground, t_onboard, severity, name, json.dumps(args), text, packet_id),
        )

    def add_samples(self, scid: int, t_onboard: float, values: dict[str, float]) -> None:
        with self.lock:
            epoch = self.archive.next_epoch(scid, t_onboard)
            self.archive.ingest_samples(scid, [(k, t_onboard, float(v)) for k, v in values.items()], epoch)

    def add_command(self, scid, user, role, name, args, apid, seq) -> int:
        return self._insert(
            "INSERT INTO cmd_history (scid, t, user, role, name, args, apid, seq, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued')",
            (scid, time.time(), user, role, name, json.dumps(args, default=str), apid, seq),
        )

    def add_stage(self, command_id, stage, subtype=None, detail="", status=None, failure_code=None) -> None:
        with self.lock, self.db:
            self.db.execute(
                "INSERT INTO cmd_stages (command_id, t, stage, subtype, detail) VALUES (?, ?, ?, ?, ?)",
                (command_id, time.time(), stage, subtype, detail),
            )
            if status is not None:
                self.db.execute(
                    "UPDATE cmd_history SET status=?, failure_code=COALESCE(?, failure_code), "
                    "failure=CASE WHEN ? IS NULL THEN failure ELSE ? END WHERE id=?",
                    (status, failure_code, failure_code, detail, command_id),
                )

    def set_reply(self, command_id: int, packet_id: int) -> None:
        with self.lock, self.db:
            self.db.execute("UPDATE cmd_history SET reply_packet=? WHERE id=?", (packet_id, command_id))

    def add_link_stats(self, scid: int, stats: dict) -> None:
        self._insert(
            "INSERT INTO link_stats (scid, t, stats) VALUES (?, ?, ?)", (scid, time.time(), json.dumps(stats))
        )

    def _rows(self, sql: str, args: tuple) -> list[tuple]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def packets(self, scid, since, limit, service=None) -> list[dict]:
        sql = "SELECT %s FROM tm_packets WHERE t_ground >= ?" % _PACKET_COLS
        args: tuple[Any, ...] = (since,)
        if scid is not None:
            sql, args = sql + " AND scid = ?", (*args, scid)
        if service is not None:
            sql, args = sql + " AND service = ?", (*args, service)
        return [_packet_row(r) for r in self._rows(sql + " ORDER BY id LIMIT ?", (*args, limit))]

    def packet(self, packet_id: int) -> dict | None:
        rows = self._rows("SELECT %s FROM tm_packets WHERE id = ?" % _PACKET_COLS, (packet_id,))
        return _packet_row(rows[0]) if rows else None

    def events(self, scid, since, limit) -> list[dict]:
        sql = (
            "SELECT id, scid, t_ground, t_onboard, severity, name, args, text, packet_id "
            "FROM tm_events WHERE t_ground >= ?"
        )
        args: tuple[Any, ...] = (since,)
        if scid is not None:
            sql, args = sql + " AND scid = ?", (*args, scid)
        keys = ("id", "scid", "t_ground", "t_onboard", "severity", "name", "args", "text", "packet_id")
        out = []
        for r in self._rows(sql + " ORDER BY id LIMIT ?", (*args, limit)):
            row = dict(zip(keys, r))
            row["args"] = json.loads(row["args"] or "{}")
            out.append(row)
        return out

    def _command_dict(self, r: tuple) -> dict:
        keys = (
            "id",
            "scid",
            "t",
            "user",
            "role",
            "name",
            "args",
            "apid",
            "seq",
            "status",
            "failure_code",
            "failure",
            "reply_packet",
        )
        row = dict(zip(keys, r))
        row["args"] = json.loads(row["args"] or "{}")
        row["stages"] = [
            {"t": t, "stage": s, "subtype": sub, "detail": d}
            for t, s, sub, d in self._rows(
                "SELECT t, stage, subtype, detail FROM cmd_stages WHERE command_id=? ORDER BY rowid",
                (row["id"],),
            )
        ]
        return row

    def command(self, command_id: int) -> dict | None:
        rows = self._rows("SELECT %s FROM cmd_history WHERE id=?" % _COMMAND_COLS, (command_id,))
        return self._command_dict(rows[0]) if rows else None

    def commands(self, scid, since, limit) -> list[dict]:
        sql = "SELECT %s FROM cmd_history WHERE t >= ?" % _COMMAND_COLS
        args: tuple[Any, ...] = (since,)
        if scid is not None:
            sql, args = sql + " AND scid = ?", (*args, scid)
        return [self._command_dict(r) for r in self._rows(sql + " ORDER BY id LIMIT ?", (*args, limit))]

    def close(self) -> None:
        with self.lock:
            self.archive.close()
