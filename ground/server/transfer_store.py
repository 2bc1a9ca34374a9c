"""The archive of CFDP file transfers (ground/server/transfers.py): one row per transaction, filed
when it starts and completed with its outcome when it ends. `SqliteStore` mixes this in; its
write queue (`_id`, `_put`) and reads (`_rows`) do the work.

A row whose `ended` is still NULL after a restart is a transaction the server stopped during:
transfers.py lists it as "interrupted".
"""

from __future__ import annotations

from typing import Any

TRANSFER_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_transfers (
    id INTEGER PRIMARY KEY, scid INTEGER NOT NULL, spacecraft TEXT NOT NULL, direction TEXT NOT NULL,
    "transaction" INTEGER, local TEXT, remote TEXT, size INTEGER, bytes INTEGER DEFAULT 0,
    resent INTEGER DEFAULT 0, started REAL NOT NULL, ended REAL, condition INTEGER,
    condition_text TEXT, state TEXT NOT NULL, user TEXT, resumed_from INTEGER);
CREATE INDEX IF NOT EXISTS file_transfers_by_craft ON file_transfers (spacecraft, id);
"""
TRANSFER_COLS = (
    "id", "scid", "spacecraft", "direction", "transaction", "local", "remote", "size", "bytes", "resent",
    "started", "ended", "condition", "condition_text", "state", "user", "resumed_from",
)  # fmt: skip
_SELECT = "SELECT %s FROM file_transfers" % ", ".join('"%s"' % c for c in TRANSFER_COLS)


class TransferArchive:
    """File-transfer rows; needs the host store's `_id(table)`, `_put(*items)` and `_rows(sql, args)`."""

    def add_transfer(self, row: dict[str, Any]) -> int:
        """A transaction that started: scid, spacecraft, direction, transaction, local, remote, size,
        started (Unix s), user, resumed_from. Returns its id."""
        tid = self._id("file_transfers")  # type: ignore[attr-defined]
        cols = ("scid", "spacecraft", "direction", "transaction", "local", "remote", "size", "started")
        cols += ("user", "resumed_from")
        sql = 'INSERT INTO file_transfers (id, state, %s) VALUES (?, ?, %s)' % (
            ", ".join('"%s"' % c for c in cols), ", ".join("?" * len(cols)),
        )  # fmt: skip
        self._put((sql, (tid, "running", *(row.get(c) for c in cols))))  # type: ignore[attr-defined]
        return tid

    def end_transfer(self, tid: int, row: dict[str, Any]) -> None:
        """Its outcome: local, remote, size, bytes, resent, ended (Unix s), condition,
        condition_text, state (done, failed, cancelled)."""
        cols = ("local", "remote", "size", "bytes", "resent", "ended", "condition", "condition_text", "state")
        sql = "UPDATE file_transfers SET %s WHERE id = ?" % ", ".join('"%s" = ?' % c for c in cols)
        self._put((sql, (*(row.get(c) for c in cols), tid)))  # type: ignore[attr-defined]

    def transfers(
        self, spacecraft: str | None = None, limit: int = 100, tid: int | None = None
    ) -> list[dict]:
        """The newest `limit` transfers (of one spacecraft), newest first; or the one of id `tid`."""
        sql, args = _SELECT + " WHERE 1", ()
        if tid is not None:
            sql, args = sql + " AND id = ?", (tid,)
        if spacecraft is not None:
            sql, args = sql + " AND spacecraft = ?", (*args, spacecraft)
        rows = self._rows(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))  # type: ignore[attr-defined]
        return [dict(zip(TRANSFER_COLS, r)) for r in rows]
