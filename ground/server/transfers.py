"""CFDP file transfers of one spacecraft link (ground/file_transfer.py's `FileTransfers` on the
link's Terminal), listed, cancelled and resumed through the server, and archived with their outcome.

    link.files.upload(user, data, "files/exp.cfg")   # staged on the server, then CFDP class 2 up
    link.files.downlink(user, "files/log.bin")       # the `file_downlink` command, as any command
    link.files.cancel(tid); link.files.resume(user, tid); link.files.recent()

Folders: `<archive's folder>/transfers/<spacecraft>/downloads` receives what the spacecraft sends
(under its board path), `.../staging/<random>/<name>` keeps an uploaded file until its uplink
succeeds (a failed or cancelled one stays there so it can be resumed).

Every transaction gets an id when it starts (the archive's `file_transfers` row, completed with
its bytes, segments re-sent, condition and state when it ends). State: running, done, failed,
cancelled, or interrupted (the server stopped before it ended). Resume: a failed, cancelled or
interrupted uplink is started again from its staged file to the same remote path, as a NEW
transaction (new id, `resumed_from` the old one): the board keeps no part of a cancelled or
refused uplink, so the file goes up whole.

Roles: a viewer lists; an operator uplinks into files/, downlinks (the command's own roles
apply) and cancels; an uplink into slot_a/ or slot_b/ needs admin (onboard too: the admin key).
The link thread calls `poll` with the link's lock held; every other method takes that lock.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flight.commands import LEVEL_ADMIN
from flight.file_service import DOWNLINK, MAX_FILE, UPLINK
from ground.file_transfer import FileTransfers, Transfer, TransferError
from ground.server.auth import User, require
from ground.server.errors import BadRequestError, ConfigError, ConflictError, NotFoundError
from protocols.cfdp_directives import CANCEL_REQUEST_RECEIVED

if TYPE_CHECKING:
    from ground.server.records import CommandRecord
    from ground.server.spacecraft import SpacecraftLink

# the board's uplink folders and the authority each needs, as the server's roles
UPLINK_ROLES = tuple((folder, "admin" if level == LEVEL_ADMIN else "operator") for folder, level in UPLINK)
MAX_UPLOAD = MAX_FILE  # the most the board takes
MAX_NAME = 48  # file_downlink's name argument (text48)
RESUMABLE = ("failed", "cancelled", "interrupted")


def check_remote(remote: Any, direction: str) -> str:
    """The role a transfer of board path `remote` needs ("up": into files/ or a slot; "down": from
    files/, flash/, a slot or boot_state.json); ValueError says what is wrong with it."""
    if not isinstance(remote, str) or not remote:
        raise ValueError("give the remote path on the board, e.g. files/exp.cfg")
    parts = remote.split("/")
    if remote.startswith("/") or "\\" in remote or any(p in ("", ".", "..") for p in parts[1:]):
        raise ValueError("remote path %r: no leading /, no empty, . or .. parts" % remote)
    if direction == "up":
        for folder, role in UPLINK_ROLES:
            if remote.startswith(folder) and len(remote) > len(folder):
                return role
        raise ValueError("remote path %r must be a file under files/, slot_a/ or slot_b/" % remote)
    if len(remote.encode()) > MAX_NAME:
        raise ValueError("remote path %r is over %d bytes" % (remote, MAX_NAME))
    if not any(remote.startswith(f) for f in DOWNLINK):
        raise ValueError("remote path %r must be under %s" % (remote, ", ".join(DOWNLINK)))
    return "operator"


def state_of(t: Transfer) -> str:
    if not t.done:
        return "running"
    if t.ok:
        return "done"
    return "cancelled" if t.condition == CANCEL_REQUEST_RECEIVED else "failed"


@dataclass
class _Live:
    tid: int
    transfer: Transfer
    user: str
    started: float
    resumed_from: int | None


class LinkTransfers:
    def __init__(self, link: SpacecraftLink, folder: Path) -> None:
        self.link = link
        self.folder = Path(folder)
        self.staging = self.folder / "staging"
        try:
            self.ft = FileTransfers(link.term, downloads=self.folder / "downloads")
        except OSError as exc:
            raise ConfigError(
                "cannot make the transfers folder %s: %s" % (folder, exc.strerror or exc)
            ) from None
        self.live: dict[int, _Live] = {}  # transfer id -> a transaction that runs
        self._ids: dict[int, int] = {}  # id(Transfer) -> transfer id
        self._wanted: dict[str, str] = {}  # remote -> the user who asked the spacecraft for it

    # --- the link thread (lock held) ---------------------------------------------------------------
    def poll(self, now_ms: int) -> None:
        self.ft.poll(now_ms)
        self._sync()

    def _sync(self) -> None:
        """New transactions (a downlink starts when its first PDU comes) get an id; ended ones are
        archived with their outcome."""
        for t in list(self.ft.active.values()):
            if id(t) not in self._ids:
                self._open(t, self._wanted.pop(t.remote, "") if t.direction == "down" else "", None)
        for t in self.ft.finished:
            tid = self._ids.get(id(t))
            if tid is None:  # began and ended between two polls
                tid = self._open(t, self._wanted.pop(t.remote, ""), None)
            self._close(self.live[tid])
        self.ft.finished.clear()

    def _open(self, t: Transfer, user: str, resumed_from: int | None) -> int:
        link = self.link
        started = link.clock.time() - (link.now_ms() - t.started_ms) / 1000.0
        row = {
            "scid": link.scid, "spacecraft": link.name, "direction": t.direction, "transaction": t.seq,
            "local": str(t.local), "remote": t.remote, "size": t.size, "started": started, "user": user,
            "resumed_from": resumed_from,
        }  # fmt: skip
        tid = link.store.add_transfer(row)
        self._ids[id(t)] = tid
        self.live[tid] = _Live(tid, t, user, started, resumed_from)
        return tid

    def _close(self, rec: _Live) -> None:
        t = rec.transfer
        del self.live[rec.tid]
        del self._ids[id(t)]
        if not rec.user and t.direction == "down":
            rec.user = self._wanted.pop(t.remote, "")
        out = self._view(rec)
        out["ended"] = self.link.clock.time()
        self.link.store.end_transfer(rec.tid, out)
        if t.direction == "up" and out["state"] == "done" and self.staging in t.local.parents:
            shutil.rmtree(t.local.parent, ignore_errors=True)  # nothing left to resume

    def _view(self, rec: _Live) -> dict[str, Any]:
        t = rec.transfer
        out = t.progress(self.link.now_ms())
        out.update(
            id=rec.tid, spacecraft=self.link.name, scid=self.link.scid, started=rec.started, ended=None,
            state=state_of(t), user=rec.user, resumed_from=rec.resumed_from,
        )  # fmt: skip
        return out

    # --- clients (any thread) ------------------------------------------------------------------------
    def upload(self, user: User, data: bytes, remote: str) -> dict[str, Any]:
        """Stage `data` and uplink it to `remote` (checked: path and role)."""
        self.check_up(user, remote)
        if len(data) > MAX_UPLOAD:
            raise BadRequestError(
                "the file is %d bytes; the board takes %d at most" % (len(data), MAX_UPLOAD)
            )
        folder = self.staging / secrets.token_hex(8)
        folder.mkdir(parents=True)
        local = folder / remote.rsplit("/", 1)[-1]
        local.write_bytes(data)
        try:
            return self._put(user, local, remote, None)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def resume(self, user: User, tid: int) -> dict[str, Any]:
        """A failed, cancelled or interrupted uplink started again (a new transaction; see the module doc)."""
        rows = self.link.store.transfers(self.link.name, 1, tid)
        if not rows:
            raise NotFoundError("no transfer %d of %s" % (tid, self.link.name))
        row = self._row(rows[0])
        if row["direction"] != "up" or row["state"] not in RESUMABLE:
            raise ConflictError(
                "transfer %d is %s %s: only a failed, cancelled or interrupted uplink is resumed"
                % (tid, "an uplink" if row["direction"] == "up" else "a downlink", row["state"])
            )
        self.check_up(user, row["remote"])
        local = Path(row["local"])
        if self.staging not in local.parents or not local.is_file():
            raise ConflictError(
                "transfer %d: its staged file %s is gone; put the file again" % (tid, local.name)
            )
        return self._put(user, local, row["remote"], tid)

    def check_up(self, user: User, remote: str) -> None:
        require(user, "operator")
        try:
            need = check_remote(remote, "up")
        except ValueError as exc:
            raise BadRequestError(str(exc)) from None
        require(user, need)

    def _put(self, user: User, local: Path, remote: str, resumed_from: int | None) -> dict[str, Any]:
        with self.link.lock:
            running = [r for r in self.live.values() if r.transfer.direction == "up"]
            if running:
                r = running[0]
                raise ConflictError(
                    "transfer %d (%s) still runs: the board takes one uplink at a time"
                    % (r.tid, r.transfer.remote)
                )
            try:
                t = self.ft.put(local, remote, self.link.now_ms())
            except TransferError as exc:
                raise BadRequestError(str(exc)) from None
            return self._view(self.live[self._open(t, user.name, resumed_from)])

    def downlink(self, user: User, remote: str) -> CommandRecord:
        """`file_downlink name=remote` through the link's command path (roles, command archive);
        the transaction appears in `list` when its first PDU arrives."""
        try:
            check_remote(remote, "down")
        except ValueError as exc:
            raise BadRequestError(str(exc)) from None
        rec = self.link.submit(user, "file_downlink", {"name": remote})
        with self.link.lock:
            self._wanted[remote] = user.name
        return rec

    def cancel(self, tid: int) -> dict[str, Any]:
        """CFDP cancel of a running transaction (up: EOF (cancel); down: Finished (cancel))."""
        with self.link.lock:
            rec = self.live.get(tid)
            if rec is None:
                raise ConflictError("transfer %d is not running" % tid)
            self.ft.cancel(rec.transfer, self.link.now_ms())
            out = self._view(rec)
            self._sync()
            return out

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest `limit` transfers, newest first: running ones with their live progress."""
        rows = self.link.store.transfers(self.link.name, limit)
        return [self._row(r) for r in rows]

    def get(self, tid: int) -> dict[str, Any] | None:
        rows = self.link.store.transfers(self.link.name, 1, tid)
        return self._row(rows[0]) if rows else None

    def _row(self, row: dict[str, Any]) -> dict[str, Any]:
        """An archived row, or the live view of a transaction that runs."""
        with self.link.lock:
            rec = self.live.get(row["id"])
            if rec is not None:
                return self._view(rec)
        if row["ended"] is None:  # ended since it was read?
            row = self.link.store.transfers(self.link.name, 1, row["id"])[0]
        if row["ended"] is None:
            row["state"] = "interrupted"
            row["condition_text"] = "the server stopped before the transaction ended"
        row["elapsed_s"] = None if row["ended"] is None else round(row["ended"] - row["started"], 1)
        row["eta_s"] = None
        return row
