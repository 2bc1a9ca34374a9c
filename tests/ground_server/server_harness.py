"""Test harness: a twin on a pty (or TCP), a ground server owning it, and tokens for a viewer, an
operator and an admin. Everything waits on conditions with deadlines and is stopped at the end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ground.server.auth import new_token
from ground.server.client import GroundClient
from ground.server.config import parse_config
from ground.server.server import GroundServer
from ground.twin import TwinServer

ROLES = ("viewer", "operator", "admin")
TWIN_SPEED = 50.0


def until(cond: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> object:
    """Poll `cond` until it is truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %g s waiting for %s" % (timeout, what))
        time.sleep(0.01)


@dataclass
class Ground:
    url: str
    tokens: dict[str, str]
    server: GroundServer
    twin: TwinServer
    archive: Path
    log: Path
    config_data: dict

    def client(self, role: str | None = "operator") -> GroundClient:
        return GroundClient(self.url, self.tokens.get(role or "", None), "sat1")

    def executed(self) -> int:
        d = self.twin.app.dispatcher
        return d.ok + d.failed


def make_users() -> tuple[list[dict], dict[str, str]]:
    users, tokens = [], {}
    for role in ROLES:
        token, line = new_token(role)
        tokens[role] = token
        users.append({"name": role, "role": role, "token_hash": line.split('"')[1]})
    return users, tokens


class _Twin:
    def __init__(
        self, use_pty: bool, key: bytes | None = None, flash: str | None = None, speed: float = TWIN_SPEED
    ) -> None:
        self.server = TwinServer(port=0, use_pty=use_pty, speed=speed, key=key, flash_dir=flash)
        self.thread = threading.Thread(target=self.server.serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.stop()
        self.thread.join(5)
        self.server.close()


def start_ground(
    folder: Path,
    use_pty: bool = True,
    key: bytes | None = None,
    twin_speed: float = TWIN_SPEED,
    craft_extra: dict | None = None,
    own_flash: bool = False,
    **server: object,
):
    """(Ground, stop) with the twin (at `twin_speed` x real time) and server running; `stop()` ends both.
    own_flash: the twin's flash in folder/board/flash, so its files/ is folder/board/files (without
    a flash folder the twin's is a temporary one, and the board's files/ lands beside it, in /tmp)."""
    flash = folder / "board" / "flash" if own_flash else folder / "flash" if key else None
    twin = _Twin(use_pty, key, str(flash) if flash else None, twin_speed)
    users, tokens = make_users()
    craft: dict = {"name": "sat1", "scid": 42, **(craft_extra or {})}
    if use_pty:
        craft["link"] = {"type": "pty", "address": twin.server.pty_path}
    else:
        craft["link"] = {"type": "tcp", "address": "127.0.0.1:%d" % twin.server.port}
    if key is not None:
        (folder / "ops.hex").write_text(key.hex())
        craft["key_file"] = "ops.hex"
    else:
        craft["insecure"] = True
    data = {
        "server": {"port": 0, "archive": "ground.sqlite", "log_file": "ground.log", **server},
        "spacecraft": [craft],
        "users": users,
    }
    try:
        gs = GroundServer(parse_config(data, folder))
        url = gs.start()
    except BaseException:
        twin.close()
        raise
    ground = Ground(url, tokens, gs, twin.server, folder / "ground.sqlite", folder / "ground.log", data)

    def stop() -> None:
        gs.stop()
        twin.close()

    return ground, stop


@contextmanager
def running_ground(folder: Path, **kw: Any) -> Iterator[Ground]:
    """start_ground(folder, **kw), once the server has COP-1 running with the board; stopped on exit."""
    g, stop = start_ground(folder, **kw)
    try:
        link = g.server.links["sat1"]
        until(lambda: link.term.fop._initialized, 15, "COP-1 Set V(R) confirmed")
        yield g
    finally:
        stop()
