"""Deploy a firmware bundle to a MicroPython board over serial: A/B slots, copy by hash, verified
switch, heartbeat, automatic rollback. mpremote's SerialTransport is the wire (raw REPL, raw-paste).

    from board_tools.flash.deploy import deploy, status
    result = deploy("/dev/ttyACM0", "dist/rp2040")   # raises a DeployError subclass on failure
    print(status("/dev/ttyACM0").state)

Board layout (paths relative to the board's boot directory, "/" on hardware):

    main.py            firmware_builds/board_main.py: boot_select starts the slot, then main.py runs its
                       app with boot_select dropped (installed and kept up to date here)
    boot_select.mpy    firmware_builds/boot_select.py, compiled for the bundle's target: picks the
                       slot, counts trial boots, rolls back
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

The parts: deploy_bundle.py (the bundle, the board's firmware and the checks before anything is
written), deploy_session.py (the raw-REPL session: hashes, uploads, the boot pointer), deploy_boot.py
(the reboot and boot_select's verdict), deploy_errors.py; this module fills the slot and runs the
steps. The board-side helpers are firmware_builds/deploy_helpers.py.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import serial
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from firmware_builds.build import BuildError, compile_one

from . import romfs_deploy
from .deploy_boot import _reboot_and_watch
from .deploy_bundle import (
    ARCHS,
    BoardInfo,
    Bundle,
    bundle_platforms,
    check_abi,
    check_board,
    check_heap,
    load_bundle,
)
from .deploy_errors import (
    AbiMismatchError,
    BoardError,
    BundleError,
    DeployError,
    HeapTooSmallError,
    HeartbeatTimeoutError,
    RolledBackError,
    RomfsPartitionError,
    VerifyError,
    WrongBoardError,
)
from .deploy_session import _Board, _session

__all__ = [
    "ARCHS",
    "AbiMismatchError",
    "BoardError",
    "BoardInfo",
    "BoardStatus",
    "Bundle",
    "BundleError",
    "DeployError",
    "DeployResult",
    "HeapTooSmallError",
    "HeartbeatTimeoutError",
    "RolledBackError",
    "RomfsPartitionError",
    "VerifyError",
    "WrongBoardError",
    "boot_files",
    "bundle_platforms",
    "check_abi",
    "check_board",
    "check_heap",
    "deploy",
    "load_bundle",
    "restart",
    "status",
]

BOOT_SELECT_SRC = Path(__file__).resolve().parents[2] / "firmware_builds" / "boot_select.py"
MAIN_PY = BOOT_SELECT_SRC.with_name("board_main.py")  # installed as main.py
SLOTS = ("a", "b")


@dataclass
class DeployResult:
    slot: str  # the slot now booting
    previous: str | None  # the slot it replaced (still intact, for a rollback); None: it was empty
    bundle: str
    uploaded: list[str] = field(default_factory=list)  # sent over serial
    cloned: list[str] = field(default_factory=list)  # copied on the board from the active slot
    skipped: list[str] = field(default_factory=list)  # already identical in the target slot
    removed: list[str] = field(default_factory=list)  # stale files deleted from the target slot
    # boot_select.mpy / main.py (re)installed; "-boot_select.py": an older deploy's source removed
    boot_files: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    boot_log: str = ""
    seconds: float = 0.0


@dataclass
class BoardStatus:
    board: BoardInfo
    # the boot selector's file: boot_select.mpy, or boot_select.py from an older deploy (resident
    # while the app runs: deploy again); None: not installed
    boot_select: str | None
    state: dict | None  # boot pointer as boot_select reads it (tmp fallback included)
    # per slot: version, git_revision, board, files (manifest.json included, as deploy counts them),
    # on_board (files found in the slot folder); None if empty
    slots: dict[str, dict | None]
    restarted: bool = False  # the app was stopped to read the board and soft-rebooted afterwards


def boot_files(arch: str | None) -> list[tuple[str, bytes]]:
    """main.py and boot_select.mpy as deploy installs them: boot_select compiled as the bundles are
    (-O3, for `arch`), so the board loads no compiler and no source to import it again while the app
    runs (mark_good, the update)."""
    with tempfile.TemporaryDirectory(prefix="cubesat-boot-") as tmp:
        dest = Path(tmp) / "boot_select.mpy"
        try:
            compile_one(BOOT_SELECT_SRC, "boot_select.py", dest, arch)
        except BuildError as exc:
            raise BundleError("cannot compile boot_select for %s: %s" % (arch or "bytecode", exc)) from None
        return [("boot_select.mpy", dest.read_bytes()), ("main.py", MAIN_PY.read_bytes())]


def _install_boot_files(board: _Board, arch: str | None) -> list[str]:
    """Put boot_select.mpy and main.py in place: each written to .tmp, verified, then renamed. A
    boot_select.py of an older deploy goes in between: it would shadow the .mpy, and every step
    leaves a main.py that boots (an older main.py calls boot(), which the .mpy keeps)."""
    installed = []
    for name, data in boot_files(arch):
        if name == "main.py" and board.hash_file("boot_select.py", "looking for boot_select.py"):
            board.exec("os.remove(%r)" % board.path("boot_select.py"), "removing the old boot_select.py")
            installed.append("-boot_select.py")
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
        board.exec("_drm(%r, %r)" % (files, dirs), "removing stale files from slot %s" % target)
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
        board.exec("_dcps(%r)" % clones[i : i + 16], "copying files within the board")
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
    boot_files = _install_boot_files(board, bundle.manifest.get("target", {}).get("arch"))
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
    if image is not None:
        running = (state.get("slots") or {}).get(active, {}).get("romfs")
        keep = (active, running) if running and result.previous else None
        if romfs_deploy.write_image(board, image, rom_size, say, keep) and result.previous and not keep:
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
        found = [n for n in ("boot_select.py", "boot_select.mpy") if board.hash_file(n, "looking for " + n)]
        state = board.read_state() if found else None
        slots = {s: board.eval("_dslot(%r)" % board.path("slot_" + s), "reading slot %s" % s) for s in SLOTS}
        if restart_app:
            board.restart_app()
    return BoardStatus(info, found[0] if found else None, state, slots, restarted=restart_app)


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
