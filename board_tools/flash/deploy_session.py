"""The board side of a deploy session: raw-REPL execs with errors turned into BoardError, the
board-side helpers (firmware_builds/deploy_helpers.py) loaded once per session, file hashes and
uploads, and the boot pointer (boot_state.json) written to .tmp, verified and renamed."""

from __future__ import annotations

import ast
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import serial
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from .deploy_bundle import BoardInfo
from .deploy_errors import AbiMismatchError, BoardError, VerifyError
from .raw_repl import ATTEMPT_S, TOTAL_S, enter_raw_repl

STATE = "boot_state.json"
STATE_TMP = STATE + ".tmp"

# Board-side helpers (MicroPython source), defined once per raw-REPL session.
_HELPERS = (Path(__file__).resolve().parents[2] / "firmware_builds" / "deploy_helpers.py").read_text()


class _Board:
    """The deploy's view of one board session: raw-REPL execs with errors turned into BoardError."""

    def __init__(self, transport: SerialTransport, chunk_size: int) -> None:
        self.t = transport
        if transport.serial.timeout is None:
            transport.serial.timeout = 1  # bounded reads: a dead board must not block forever
        self.chunk_size = chunk_size
        self.info: BoardInfo | None = None

    def enter(self) -> BoardInfo:
        # Soft reset in raw mode: the app is stopped (Ctrl-C) and main.py does not run meanwhile.
        try:
            enter_raw_repl(self.t, attempt_s=ATTEMPT_S, total_s=TOTAL_S)
        except (TransportError, serial.SerialException, OSError) as exc:
            raise BoardError("no raw REPL on %s: %s" % (self.t.device_name, exc)) from None
        # the heap an application gets at boot: collect first, in a command of its own (the
        # WebAssembly port collects only between commands), then read it before our helpers load
        self.exec("import gc\ngc.collect()", "collecting garbage")
        heap_free = self.eval("gc.mem_free()", "reading the free heap")
        self.exec(_HELPERS, "loading deploy helpers")
        mpy, version, machine, cwd, platform = self.eval("_dinfo()", "reading the firmware version")
        if mpy is None:
            raise AbiMismatchError(
                "the board's firmware (MicroPython %s) does not report sys.implementation._mpy, so the "
                ".mpy ABI cannot be checked; it predates v1.19: update the firmware" % (version,)
            )
        self.info = BoardInfo(
            mpy, version, machine, "" if cwd == "/" else cwd.rstrip("/"), platform, heap_free
        )
        return self.info

    def restart_app(self) -> None:
        """Leave the raw REPL and soft-reboot at the friendly prompt: main.py (boot_select) runs again."""
        try:
            self.t.exit_raw_repl()
            self.t.read_until(1, b">>> ", timeout=5)
            self.t.serial.write(b"\x04")  # Ctrl-D at the friendly REPL: soft reboot that runs main.py
        except (TransportError, serial.SerialException, OSError) as exc:
            raise BoardError("board stopped answering while restarting the app: %s" % exc) from None

    def path(self, rel: str) -> str:
        assert self.info is not None
        return self.info.root + "/" + rel

    def exec(self, code: str, what: str, timeout: float = 10.0) -> bytes:
        try:
            out, err = self.t.exec_raw(code, timeout=timeout)
        except (TransportError, serial.SerialException, OSError) as exc:
            raise BoardError("board stopped answering while %s: %s" % (what, exc)) from None
        if err:
            last = err.decode(errors="replace").strip().splitlines()[-1:]
            raise BoardError("board raised while %s: %s" % (what, last[0] if last else err))
        return out

    def eval(self, expr: str, what: str):
        out = self.exec("print(repr(%s))" % expr, what)
        try:
            return ast.literal_eval(out.decode().strip())
        except (ValueError, SyntaxError):
            raise BoardError("unexpected reply while %s: %r" % (what, out[-200:])) from None

    def hash_tree(self, rel_dir: str, what: str) -> tuple[dict[str, str], set[str]]:
        """(sha256 of every file under rel_dir, its sub-directories), paths relative to rel_dir."""
        base = self.path(rel_dir) + "/"
        out = self.exec("_dwalk(%r)" % base[:-1], what, timeout=30.0)
        files: dict[str, str] = {}
        dirs: set[str] = set()
        for line in out.decode(errors="replace").splitlines():
            kind, _, rest = line.strip().partition(" ")
            if kind == "F":
                digest, _, p = rest.partition(" ")
                if p.startswith(base):
                    files[p[len(base) :]] = digest
            elif kind == "D" and rest.startswith(base):
                dirs.add(rest[len(base) :])
        return files, dirs

    def hash_file(self, rel: str, what: str) -> str | None:
        """sha256 of one file, None if it does not exist."""
        return self.eval("_dhx(%r)" % self.path(rel), what)

    def write_file(self, rel: str, data: bytes, what: str) -> None:
        try:
            self.t.fs_writefile(self.path(rel), data, chunk_size=self.chunk_size)
        except (TransportError, serial.SerialException) as exc:
            raise BoardError("board stopped answering while %s: %s" % (what, exc)) from None
        except OSError as exc:  # mpremote turns the board's OSError (ENOSPC, EROFS...) into this
            raise BoardError("board could not write %s while %s: %s" % (rel, what, exc)) from None

    def read_state(self) -> dict:
        # boot_select on the board decides what the pointer means (tmp fallback, defaults): ask it.
        return self.eval("__import__('boot_select').read_state()", "reading the boot pointer")

    def write_state(self, state: dict, what: str) -> None:
        data = json.dumps(state, sort_keys=True).encode()
        self.write_file(STATE_TMP, data, "writing the new boot pointer")
        got = self.hash_file(STATE_TMP, "checking the new boot pointer")
        if got != hashlib.sha256(data).hexdigest():
            raise VerifyError(
                "%s on the board hashes to %s, expected %s; the boot pointer was not switched"
                % (STATE_TMP, got, hashlib.sha256(data).hexdigest()),
                {STATE_TMP: (hashlib.sha256(data).hexdigest(), got)},
            )
        # The commit point: rename is atomic on littlefs and POSIX (FAT: boot_select falls back to .tmp).
        self.exec("os.rename(%r, %r)" % (self.path(STATE_TMP), self.path(STATE)), what)


# How long a port busy or missing at open is tried again: a board that just reset brings its USB
# serial device back within about a second
OPEN_PATIENCE_S = 2.0


def _open(port: str, patience_s: float = OPEN_PATIENCE_S) -> SerialTransport:
    """The board's port, opened exclusively. A port that is busy or missing for a moment (a board
    that just reset: its USB serial device comes back, the previous session's lock goes) is tried
    again until `patience_s` has passed."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            # A read timeout keeps a dead board from blocking forever (mpremote reads ptys byte-wise).
            return SerialTransport(port, baudrate=115200, timeout=1)
        except TransportError as exc:
            if time.monotonic() >= deadline:
                raise BoardError(
                    "cannot open %s: %s (no such port, or another program such as mpremote, screen or a "
                    "running `cubesat` holds it)" % (port, exc)
                ) from None
        time.sleep(0.1)


@contextmanager
def _session(port_or_transport: str | SerialTransport, chunk_size: int) -> Iterator[_Board]:
    if isinstance(port_or_transport, str):
        transport = _open(port_or_transport)
        try:
            yield _Board(transport, chunk_size)
        finally:
            transport.close()
    else:
        yield _Board(port_or_transport, chunk_size)
