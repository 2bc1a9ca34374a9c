"""Deploy a firmware bundle to a MicroPython board over serial: A/B slots, copy by hash, verified
switch, heartbeat, automatic rollback. mpremote's SerialTransport is the wire (raw REPL, raw-paste).

    from ground.flash.deploy import deploy, status
    result = deploy("/dev/ttyACM0", "dist/rp2040")   # raises a DeployError subclass on failure
    print(status("/dev/ttyACM0").state)

Board layout (paths relative to the board's boot directory, "/" on hardware):

    main.py            `import boot_select; boot_select.boot()` (installed and kept up to date here)
    boot_select.py     firmware_builds/boot_select.py: picks the slot, counts trial boots, rolls back
    boot_state.json    boot pointer {"active", "pending", "attempts", "max_attempts", "slots"}
    slot_a/, slot_b/   one bundle each (.mpy tree + manifest.json)

Steps: refuse a bundle built for another kind of board (sys.platform) or whose .mpy ABI the firmware
cannot load (sys.implementation._mpy), before anything is written; hash both
slots on the board in one pass; fill the inactive slot, skipping files that already match, cloning
files the active slot already holds on the board itself and uploading only the rest; re-hash every
file on the board and compare with the manifest; write the new pointer to boot_state.json.tmp,
check its hash, rename it over the old one (the commit point); soft-reboot into main.py and wait for
the app's `boot_select.mark_good()` line. A slot that never calls it is tried `max_attempts` times,
then boot_select boots the previous slot again and RolledBackError is raised, carrying the last
console lines of the failed boots (the reason).

Entering the raw REPL stops the app running on the board (as any mpremote command does). deploy()
reboots into main.py at the end, also when it fails after that point; status() does the same unless
told not to, and restart() does only that.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import serial
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from . import romfs_deploy
from .raw_repl import ATTEMPT_S, TOTAL_S, enter_raw_repl

BOOT_SELECT_SRC = Path(__file__).resolve().parents[2] / "firmware_builds" / "boot_select.py"
MAIN_PY = b"import boot_select\nboot_select.boot()\n"
STATE = "boot_state.json"
STATE_TMP = STATE + ".tmp"
SLOTS = ("a", "b")
# py/persistentcode.h MP_NATIVE_ARCH_*: index = arch field of sys.implementation._mpy and .mpy headers
ARCHS = (
    None,
    "x86",
    "x64",
    "armv6",
    "armv6m",
    "armv7m",
    "armv7em",
    "armv7emsp",
    "armv7emdp",
    "xtensa",
    "xtensawin",
    "rv32imc",
    "rv64imc",
)

# Console lines printed by boot_select (GOOD_LINE / ROLLBACK_LINE there).
_GOOD = re.compile(rb"boot_select: slot ([ab]) good")
_ROLLBACK = re.compile(rb"boot_select: slot ([ab]) failed (\d+) boots, rolled back to ([ab])")
_FAILED = re.compile(rb"boot_select: slot ([ab]) failed: ")

# Board-side helpers (MicroPython source), defined once per raw-REPL session.
_HELPERS = (Path(__file__).resolve().parents[2] / "firmware_builds" / "deploy_helpers.py").read_text()


def _arch_name(idx: int) -> str | None:
    return ARCHS[idx] if idx < len(ARCHS) else "arch#%d" % idx


class DeployError(Exception):
    """Base of every deploy failure; the message says what failed and what state the board is in."""


class BundleError(DeployError):
    """The bundle folder is not a consistent build (manifest missing or not matching the files)."""


class BoardError(DeployError):
    """The board did not answer, or board-side code failed."""


class AbiMismatchError(DeployError):
    """The firmware on the board cannot load the bundle's .mpy files."""


class WrongBoardError(AbiMismatchError):
    """The bundle was built for another kind of board (its sys.platform is not the board's)."""


class HeapTooSmallError(DeployError):
    """The board's free heap at boot cannot hold the application the bundle carries."""


class RomfsPartitionError(DeployError):
    """The bundle runs packages from a ROMFS image and the board has no ROM partition to hold it."""


class VerifyError(DeployError):
    """Files on the board do not hash to the manifest after copying; the boot pointer was not touched."""

    def __init__(self, message: str, mismatches: dict[str, tuple[str, str | None]]) -> None:
        super().__init__(message)
        self.mismatches = mismatches  # path -> (expected sha256, sha256 on the board or None if missing)


class HeartbeatTimeoutError(DeployError):
    """The new slot did not report good within the time limit."""


class RolledBackError(DeployError):
    """The new slot failed max_attempts boots; boot_select went back to the previous slot."""

    def __init__(
        self, message: str, failed_slot: str, running_slot: str, attempts: int, console: str = ""
    ) -> None:
        super().__init__(message)
        self.failed_slot = failed_slot
        self.running_slot = running_slot
        self.attempts = attempts
        self.console = console  # the last console lines of the failed boots


@dataclass
class Bundle:
    path: Path
    manifest: dict
    manifest_bytes: bytes
    romfs_image: bytes | None = None  # romfs.img, checked against the manifest (None: no image)

    @property
    def files(self) -> dict[str, dict]:
        return self.manifest["files"]

    @property
    def label(self) -> str:
        m = self.manifest
        return "%s %s (%s, rev %s)" % (
            m.get("name", "bundle"),
            m.get("version"),
            m.get("board"),
            str(m.get("git_revision", "?"))[:12],
        )


@dataclass
class BoardInfo:
    mpy: int
    version: tuple
    machine: str
    root: str  # boot directory prefix for absolute paths: "" when the board's cwd is "/"
    platform: str = ""  # sys.platform: rp2, esp32, pyboard, samd, webassembly, linux (unix port)
    heap_free: int | None = None  # gc.mem_free() after a collection at the fresh raw REPL

    @property
    def mpy_version(self) -> int:
        return self.mpy & 0xFF

    @property
    def mpy_sub(self) -> int:
        return (self.mpy >> 8) & 3

    @property
    def arch(self) -> str | None:
        return _arch_name(self.mpy >> 10)

    def describe(self) -> str:
        ver = ".".join(str(v) for v in self.version if v != "")
        return ".mpy v%d.%d, arch %s (MicroPython %s, %s%s, sys.implementation._mpy=0x%x)" % (
            self.mpy_version,
            self.mpy_sub,
            self.arch or "none",
            ver,
            self.machine,
            ", sys.platform %s" % self.platform if self.platform else "",
            self.mpy,
        )


@dataclass
class DeployResult:
    slot: str  # the slot now booting
    previous: str | None  # the slot it replaced (still intact, for a rollback); None: it was empty
    bundle: str
    uploaded: list[str] = field(default_factory=list)  # sent over serial
    cloned: list[str] = field(default_factory=list)  # copied on the board from the active slot
    skipped: list[str] = field(default_factory=list)  # already identical in the target slot
    removed: list[str] = field(default_factory=list)  # stale files deleted from the target slot
    boot_files: list[str] = field(default_factory=list)  # main.py / boot_select.py (re)installed
    bytes_uploaded: int = 0
    boot_log: str = ""
    seconds: float = 0.0


@dataclass
class BoardStatus:
    board: BoardInfo
    installed: bool  # boot_select.py present
    state: dict | None  # boot pointer as boot_select reads it (tmp fallback included)
    # per slot: version, git_revision, board, files (manifest.json included, as deploy counts them),
    # on_board (files found in the slot folder); None if empty
    slots: dict[str, dict | None]
    restarted: bool = False  # the app was stopped to read the board and soft-rebooted afterwards


def load_bundle(bundle_dir: str | Path) -> Bundle:
    """Read manifest.json and check every listed file's size and SHA-256 against it."""
    path = Path(bundle_dir)
    mpath = path / "manifest.json"
    try:
        raw = mpath.read_bytes()
        manifest = json.loads(raw)
    except FileNotFoundError:
        raise BundleError("%s: no manifest.json (build it with `cubesat build`)" % path) from None
    except ValueError as exc:
        raise BundleError("%s: manifest.json is not JSON: %s" % (path, exc)) from None
    target = manifest.get("target") if isinstance(manifest, dict) else None
    if not isinstance(target, dict) or not isinstance(manifest.get("files"), dict) or not manifest["files"]:
        raise BundleError("%s: manifest.json lacks target or files" % mpath)
    want = target.get("mpy_version")
    for rel, info in sorted(manifest["files"].items()):
        if rel.startswith("/") or ".." in rel.split("/") or rel == "manifest.json":
            raise BundleError("%s: unsafe file path %r in manifest" % (path, rel))
        try:
            data = (path / rel).read_bytes()
        except FileNotFoundError:
            raise BundleError("%s: %s is in the manifest but missing" % (path, rel)) from None
        if len(data) != info.get("size") or hashlib.sha256(data).hexdigest() != info.get("sha256"):
            raise BundleError("%s: %s does not match its manifest entry (size/sha256)" % (path, rel))
        if rel.endswith(".mpy") and (data[:1] != b"M" or len(data) < 4 or data[1] != want):
            raise BundleError(
                "%s: %s header says .mpy v%s, manifest target says v%s"
                % (path, rel, data[1] if len(data) > 1 else "?", want)
            )
    bundle = Bundle(path, manifest, raw)
    bundle.romfs_image = romfs_deploy.image_of(bundle)
    return bundle


def bundle_platforms(bundle: Bundle) -> tuple[str, ...]:
    """The sys.platform values of the boards the bundle is built for (empty: unknown, not checked)."""
    plats = bundle.manifest["target"].get("platforms")
    if plats is None:  # a bundle built before manifests named them: the board table knows
        from firmware_builds.boards import TARGETS

        plats = TARGETS.get(str(bundle.manifest.get("board")), {}).get("platforms", ())
    return tuple(plats)


def check_board(bundle: Bundle, board: BoardInfo) -> None:
    """Raise WrongBoardError if the bundle was built for another kind of board (sys.platform)."""
    plats = bundle_platforms(bundle)
    if not plats or not board.platform or board.platform in plats:
        return
    from firmware_builds.boards import TARGETS

    fits = sorted(name for name, t in TARGETS.items() if board.platform in t.get("platforms", ()))
    raise WrongBoardError(
        "bundle %s is built for board %s (sys.platform %s) but this board is %s; nothing was written. %s"
        % (
            bundle.label,
            bundle.manifest.get("board"),
            "/".join(plats),
            board.describe(),
            "Build one for it: %s" % " or ".join("`cubesat build --board %s`" % name for name in fits)
            if fits
            else "No build target runs on sys.platform %s" % board.platform,
        )
    )


def check_heap(bundle: Bundle, board: BoardInfo) -> None:
    """Raise HeapTooSmallError if the board's free heap at boot is below what the bundle's
    application needs on its board (manifest `heap_needed`, measured by `cubesat heap`)."""
    need = bundle.manifest.get("heap_needed")
    if not need or board.heap_free is None or board.heap_free >= need:
        return
    raise HeapTooSmallError(
        "bundle %s needs %d B (%.0f KiB) of heap on its board but this board has %d B (%.0f KiB) free at "
        "boot; nothing was written. Free heap on the board (a firmware without unused modules) or fly "
        "the frozen profile: freeze the bundle's manifest.py into the firmware (README, 'Boards')"
        % (bundle.label, need, need / 1024, board.heap_free, board.heap_free / 1024)
    )


def check_abi(bundle: Bundle, board: BoardInfo) -> None:
    """Raise AbiMismatchError unless the bundle is for this kind of board and its firmware can import
    every .mpy in the bundle."""
    check_board(bundle, board)
    target = bundle.manifest["target"]
    if target.get("mpy_version") != board.mpy_version:
        raise AbiMismatchError(
            "bundle %s is built for .mpy v%s but the board's firmware loads %s; rebuild the bundle with "
            "the mpy-cross matching the firmware, or flash firmware that loads .mpy v%s"
            % (bundle.label, target.get("mpy_version"), board.describe(), target.get("mpy_version"))
        )
    if target.get("native_code") and target.get("arch") != board.arch:
        raise AbiMismatchError(
            "bundle %s carries native code for arch %s but the board is %s"
            % (bundle.label, target.get("arch"), board.describe())
        )
    for rel in sorted(bundle.files):
        if not rel.endswith(".mpy"):
            continue
        head = (bundle.path / rel).read_bytes()[:3]
        arch_idx, sub = head[2] >> 2, head[2] & 3
        if arch_idx and _arch_name(arch_idx) != board.arch:
            raise AbiMismatchError(
                "%s in bundle %s has native code for arch %s but the board is %s"
                % (rel, bundle.label, _arch_name(arch_idx), board.describe())
            )
        if arch_idx and sub != board.mpy_sub:
            raise AbiMismatchError(
                "%s in bundle %s is .mpy v%d.%d native code but the board is %s"
                % (rel, bundle.label, head[1], sub, board.describe())
            )


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
        mpy, version, machine, cwd, platform = self.eval(
            "(getattr(sys.implementation, '_mpy', None), tuple(sys.implementation.version), "
            "getattr(sys.implementation, '_machine', sys.platform), os.getcwd(), sys.platform)",
            "reading the firmware version",
        )
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


@contextmanager
def _session(port_or_transport: str | SerialTransport, chunk_size: int) -> Iterator[_Board]:
    if isinstance(port_or_transport, str):
        try:
            # A read timeout keeps a dead board from blocking forever (mpremote reads ptys byte-wise).
            transport = SerialTransport(port_or_transport, baudrate=115200, timeout=1)
        except TransportError as exc:
            raise BoardError(
                "cannot open %s: %s (no such port, or another program such as mpremote, screen or a "
                "running `cubesat` holds it)" % (port_or_transport, exc)
            ) from None
        try:
            yield _Board(transport, chunk_size)
        finally:
            transport.close()
    else:
        yield _Board(port_or_transport, chunk_size)


def _install_boot_files(board: _Board) -> list[str]:
    """Put main.py and boot_select.py in place: each written to .tmp, verified, then renamed."""
    installed = []
    for name, data in (("boot_select.py", BOOT_SELECT_SRC.read_bytes()), ("main.py", MAIN_PY)):
        digest = hashlib.sha256(data).hexdigest()
        if board.hash_file(name, "hashing " + name) == digest:
            continue
        board.write_file(name + ".tmp", data, "installing " + name)
        got = board.hash_file(name + ".tmp", "verifying " + name)
        if got != digest:
            raise VerifyError(
                "%s.tmp on the board hashes to %s, expected %s; %s was not replaced"
                % (name, got, digest, name),
                {name: (digest, got)},
            )
        board.exec("os.rename(%r, %r)" % (board.path(name + ".tmp"), board.path(name)), "installing " + name)
        installed.append(name)
    return installed


def _fill_slot(
    board: _Board, bundle: Bundle, target: str, active: str, result: DeployResult, log: Callable[[str], None]
) -> dict[str, str]:
    """Make slot_<target> hold exactly the bundle; returns the expected sha256 per path."""
    want = {rel: info["sha256"] for rel, info in bundle.files.items()}
    want["manifest.json"] = hashlib.sha256(bundle.manifest_bytes).hexdigest()
    slot = "slot_" + target
    have, have_dirs = board.hash_tree(slot, "hashing slot %s" % target)
    donor, _ = board.hash_tree("slot_" + active, "hashing slot %s" % active)
    donor_by_hash = {digest: rel for rel, digest in donor.items()}
    if "manifest.json" not in donor:
        result.previous = None  # the active slot holds no bundle: nothing to roll back to

    result.removed = sorted(set(have) - set(want))
    need_dirs = {"/".join(rel.split("/")[:i]) for rel in want for i in range(1, rel.count("/") + 1)}
    stale_dirs = sorted(have_dirs - need_dirs, key=lambda d: -d.count("/"))
    if result.removed or stale_dirs:
        files = [board.path(slot + "/" + r) for r in result.removed]
        dirs = [board.path(slot + "/" + d) for d in stale_dirs]
        board.exec(
            "for p in %r:\n os.remove(p)\nfor p in %r:\n try:\n  os.rmdir(p)\n except OSError:\n  pass"
            % (files, dirs),
            "removing stale files from slot %s" % target,
        )
    new_dirs = sorted(need_dirs - have_dirs, key=lambda d: d.count("/"))
    board.exec(
        "_dmk(%r)" % ([board.path(slot)] + [board.path(slot + "/" + d) for d in new_dirs]),
        "creating folders in slot %s" % target,
    )

    clones = []
    for rel in sorted(want):
        if have.get(rel) == want[rel]:
            result.skipped.append(rel)
        elif want[rel] in donor_by_hash:
            src = "slot_%s/%s" % (active, donor_by_hash[want[rel]])
            clones.append((board.path(src), board.path(slot + "/" + rel)))
            result.cloned.append(rel)
        else:
            result.uploaded.append(rel)
    for i in range(0, len(clones), 16):  # short execs: a board's raw REPL buffers the whole command
        board.exec("for s, d in %r:\n _dcp(s, d)" % clones[i : i + 16], "copying files within the board")
    for rel in result.uploaded:
        data = bundle.manifest_bytes if rel == "manifest.json" else (bundle.path / rel).read_bytes()
        board.write_file(slot + "/" + rel, data, "uploading %s to slot %s" % (rel, target))
        result.bytes_uploaded += len(data)
    log(
        "slot %s: %d uploaded (%d B), %d copied on board, %d unchanged, %d removed"
        % (
            target,
            len(result.uploaded),
            result.bytes_uploaded,
            len(result.cloned),
            len(result.skipped),
            len(result.removed),
        )
    )
    return want


def _verify_slot(board: _Board, target: str, active: str, want: dict[str, str]) -> None:
    got, _ = board.hash_tree("slot_" + target, "verifying slot %s" % target)
    bad = {rel: (digest, got.get(rel)) for rel, digest in want.items() if got.get(rel) != digest}
    bad.update({rel: ("", got[rel]) for rel in set(got) - set(want)})
    if bad:
        shown = ", ".join(
            "%s (board %s, expected %s)" % (rel, (b or "missing")[:12], (e or "nothing")[:12])
            for rel, (e, b) in sorted(bad.items())[:5]
        )
        raise VerifyError(
            "slot %s: %d file(s) do not match the manifest after copying: %s; the boot pointer was not "
            "switched, slot %s still boots" % (target, len(bad), shown, active),
            bad,
        )


def _console_lines(buf: bytes, start: int = 0, end: int | None = None, head: int = 8, tail: int = 10) -> str:
    """The non-empty console lines of buf[start:end], indented, for an error message: the first `head`
    (what the boot printed first) and the last `tail` (how it ended), the middle elided."""
    text = buf[start:end].decode(errors="replace").replace("\r", "")
    kept = [ln.rstrip() for ln in text.split("\n") if ln.strip()]
    if len(kept) > head + tail + 1:
        kept = [*kept[:head], "... (%d lines)" % (len(kept) - head - tail), *kept[-tail:]]
    return "\n".join("  | " + ln for ln in kept) if kept else "  | (nothing printed)"


def _failed_boots(buf: bytes, target: str, end: int) -> str:
    """Why the trial boots of `target` failed: each boot's verdict line and the last boot's console."""
    tries = list(re.finditer(rb"boot_select: trying slot %s \(attempt (\d+)/(\d+)\)" % target.encode(), buf))
    tries = [m for m in tries if m.start() < end]
    start = tries[-1].start() if tries else 0
    verdicts = [
        m.group(0).decode(errors="replace") + buf[m.end() : buf.find(b"\n", m.end())].decode(errors="replace")
        for m in _FAILED.finditer(buf, 0, start)
        if m.group(1) == target.encode()
    ]
    head = "last console lines of the failed boots"
    if tries:
        head += " (attempt %s/%s)" % (tries[-1].group(1).decode(), tries[-1].group(2).decode())
    out = head + ":\n" + _console_lines(buf, start, end)
    if verdicts:
        out = "earlier boots: " + "; ".join(v.strip() for v in verdicts[-3:]) + "\n" + out
    return out


def _reboot_and_watch(board: _Board, target: str, active: str, timeout: float) -> str:
    """Soft-reboot into main.py and wait for boot_select's verdict on the console."""
    t = board.t
    try:
        t.exit_raw_repl()
        t.read_until(1, b">>> ", timeout=5)
        t.serial.write(b"\x04")  # Ctrl-D at the friendly REPL: soft reboot that runs main.py
    except (serial.SerialException, OSError) as exc:
        raise BoardError("board stopped answering while rebooting into slot %s: %s" % (target, exc)) from None
    buf = b""
    rollback = None
    heartbeat = False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not heartbeat:
        try:
            buf += t.serial.read(max(1, t.serial.in_waiting))
        except (serial.SerialException, OSError) as exc:
            raise BoardError("serial link lost while slot %s was booting: %s" % (target, exc)) from None
        rollback = _ROLLBACK.search(buf)
        goods = [(m.start(), m.group(1).decode()) for m in _GOOD.finditer(buf)]
        if rollback is not None:
            heartbeat = any(at > rollback.start() for at, _ in goods)  # the old slot is back up
            old = rollback.group(3)
            if any(m.group(1) == old for m in _FAILED.finditer(buf, rollback.end())):
                break  # the fallback slot fails too: nothing more will come
        elif any(slot == target for _, slot in goods):
            return buf.decode(errors="replace")
        elif goods:
            raise DeployError(
                "the board booted slot %s instead of the new slot %s: the boot pointer was not honoured"
                % (goods[0][1], target)
            )
    if rollback is not None:
        attempts = int(rollback.group(2))
        old = rollback.group(3)
        why = _failed_boots(buf, target, rollback.start())
        if heartbeat:
            verdict = "reports good"
        elif any(m.group(1) == old for m in _FAILED.finditer(buf, rollback.end())):
            verdict = "fails too: the board waits at the REPL for a recovery deploy"
        else:
            verdict = "has not reported good within %.0f s either" % timeout
        raise RolledBackError(
            "slot %s failed %d boots without calling boot_select.mark_good(); the board rolled back to "
            "slot %s, which %s.\n%s" % (target, attempts, rollback.group(3).decode(), verdict, why),
            target,
            rollback.group(3).decode(),
            attempts,
            why,
        )
    tries = list(re.finditer(rb"trying slot %s \(attempt (\d+)/(\d+)\)" % target.encode(), buf))
    raise HeartbeatTimeoutError(
        "slot %s did not report good within %.0f s (%s); it stays on trial and boot_select returns to "
        "slot %s after the allowed failed boots. Last console lines:\n%s"
        % (
            target,
            timeout,
            "attempt %s/%s" % (tries[-1].group(1).decode(), tries[-1].group(2).decode())
            if tries
            else "no boot seen",
            active,
            _console_lines(buf, tries[-1].start() if tries else 0),
        )
    )


def deploy(
    port_or_transport: str | SerialTransport,
    bundle_dir: str | Path,
    *,
    entry: str = "flight.main",
    max_attempts: int = 3,
    boot_timeout: float = 30.0,
    chunk_size: int = 512,
    log: Callable[[str], None] | None = None,
) -> DeployResult:
    """Install the bundle in the inactive slot, verify it, switch to it and wait for its heartbeat.

    `entry` is the module boot_select imports from the slot (its main() runs if present); the app
    must call boot_select.mark_good() once healthy. Raises a DeployError subclass on any failure;
    the previously active slot stays intact and bootable in every case.
    """
    say = log or (lambda _msg: None)
    t0 = time.monotonic()
    bundle = load_bundle(bundle_dir)
    if max_attempts < 1:
        raise DeployError("max_attempts must be >= 1, got %d" % max_attempts)
    base = entry.replace(".", "/")
    candidates = (base + ".mpy", base + ".py", base + "/__init__.mpy", base + "/__init__.py")
    in_rom = (bundle.manifest.get("romfs") or {}).get("files") or {}
    if not any(c in bundle.files or c in in_rom for c in candidates):
        # Caught here rather than after max_attempts failed boots on the board.
        raise BundleError(
            "%s: entry module %s is not in the bundle (no %s)" % (bundle.path, entry, candidates[0])
        )
    with _session(port_or_transport, chunk_size) as board:
        info = board.enter()
        say("board: %s" % info.describe())
        say("board: the running app is stopped for the deploy (raw REPL); the board reboots at the end")
        try:
            result = _install(board, bundle, info, entry, max_attempts, say)
        except DeployError:
            # Nothing of the new slot boots; do not leave the board sitting at the REPL with its app
            # stopped: main.py (boot_select) starts the slot that was running before.
            try:
                board.restart_app()
                say("board: deploy failed; rebooted into main.py, the previous app runs again")
            except DeployError as exc:
                say("board: deploy failed and the board could not be rebooted (%s): reset it" % exc)
            raise
        active = "b" if result.slot == "a" else "a"
        result.boot_log = _reboot_and_watch(board, result.slot, active, boot_timeout)
    result.seconds = time.monotonic() - t0
    say("slot %s is good (%.1f s)" % (result.slot, result.seconds))
    return result


def _install(
    board: _Board, bundle: Bundle, info: BoardInfo, entry: str, max_attempts: int, say: Callable[[str], None]
) -> DeployResult:
    """Every step up to and including the boot pointer switch; the board is not rebooted here."""
    check_abi(bundle, info)
    check_heap(bundle, info)
    image = bundle.romfs_image
    if image is not None:
        rom_size = romfs_deploy.check_partition(board, bundle, image)
    if info.heap_free is not None:
        need = bundle.manifest.get("heap_needed")
        say(
            "heap: %d B free at boot%s"
            % (info.heap_free, ", the application needs %d B" % need if need else "")
        )
    boot_files = _install_boot_files(board)
    state = board.read_state()
    active = state["active"]
    target = "b" if active == "a" else "a"
    result = DeployResult(slot=target, previous=active, bundle=bundle.label, boot_files=boot_files)
    if state.get("pending") == target:
        # Never leave a half-rewritten slot on trial: withdraw it before touching its files.
        state = dict(state, pending=None, attempts=0)
        board.write_state(state, "withdrawing unconfirmed slot %s" % target)
    want = _fill_slot(board, bundle, target, active, result, say)
    _verify_slot(board, target, active, want)
    say("slot %s verified: %d files match the manifest" % (target, len(want)))
    if image is not None and romfs_deploy.write_image(board, image, rom_size, say) and result.previous:
        say("ROMFS rewritten: slot %s runs only if it was built for this image" % active)
    new = {k: v for k, v in state.items() if k != "rolled_back"}
    new.update(pending=target, attempts=0, max_attempts=max_attempts)
    new["slots"] = dict(state.get("slots") or {})
    m = bundle.manifest
    new["slots"][target] = {
        "entry": entry,
        "version": m.get("version"),
        "git_revision": m.get("git_revision"),
        "board": m.get("board"),
    }
    if image is not None:  # boot_select runs the slot only against this image
        new["slots"][target]["romfs"] = [m["romfs"]["size"], m["romfs"]["sha256"]]
    board.write_state(new, "switching the boot pointer to slot %s" % target)
    say(
        "boot pointer: slot %s on trial (%d attempts), %s"
        % (
            target,
            max_attempts,
            "slot %s kept for rollback" % active
            if result.previous
            else "no previous slot to roll back to (slot %s is empty)" % active,
        )
    )
    return result


def status(port_or_transport: str | SerialTransport, *, restart_app: bool = True) -> BoardStatus:
    """Firmware ABI, boot pointer and what each slot holds. Reading stops the app (raw REPL, Ctrl-C);
    with restart_app the board then soft-reboots into main.py again (`restarted` says so)."""
    with _session(port_or_transport, 256) as board:
        info = board.enter()
        installed = board.hash_file("boot_select.py", "looking for boot_select.py") is not None
        state = board.read_state() if installed else None
        slots = {s: board.eval("_dslot(%r)" % board.path("slot_" + s), "reading slot %s" % s) for s in SLOTS}
        if restart_app:
            board.restart_app()
    return BoardStatus(info, installed, state, slots, restarted=restart_app)


def restart(port_or_transport: str | SerialTransport) -> None:
    """Start the app again after something stopped it (an mpremote command, status(restart_app=False)):
    leave any raw REPL and soft-reboot into main.py, where boot_select boots the active slot."""
    with _session(port_or_transport, 256) as board:
        t = board.t
        try:
            t.serial.write(b"\r\x03\x03")  # stop whatever runs (an app that still runs is restarted too)
            t.serial.write(b"\x02")  # friendly REPL
            t.read_until(1, b">>> ", timeout=5)
            t.serial.write(b"\x04")
        except (TransportError, serial.SerialException, OSError) as exc:
            raise BoardError("board stopped answering while restarting the app: %s" % exc) from None
