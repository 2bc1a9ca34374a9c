"""A/B slot boot selector: runs on the board (MicroPython) and under CPython for tests.

The board's main.py (firmware_builds/board_main.py, which deploy installs) runs the app itself:

    main = boot_select.start()     # pick the slot, count the trial, import its entry
    (drop boot_select)             # it holds no heap while the app runs
    main()                         # a failure: boot_select.failed(exc), imported again

Imported again while the app runs (mark_good, the update), it finds its boot directory and the
running slot from the slot's entry on sys.path, and lets itself go once used (let_go). boot() does
start() and main() in one call, for a host (CPython tests) and a main.py of an older deploy.

Layout on the board filesystem, relative to the boot directory (os.getcwd() at boot: "/" on a board,
the flash folder on the unix port): slot_a/ and slot_b/ hold bundles, boot_state.json points at them:

    {"active": "a", "pending": "b", "attempts": 1, "max_attempts": 3,
     "slots": {"a": {"entry": "flight.main", "version": "0.1.0"}, "b": {...}}}

`active` is the last slot that proved itself; `pending` is a freshly deployed slot on trial. Every trial
boot increments `attempts` *before* the app is imported, so a crash, a hang (watchdog) or a power cut
during import still counts. Once `attempts` reaches `max_attempts` without the app calling
`mark_good()`, the next boot drops the pending slot and boots `active` again (rollback).

The state file is replaced atomically: write boot_state.json.tmp, then rename it over the old one.
A reader that finds no valid boot_state.json (FAT's rename removes the target first) uses a complete
.tmp; a torn .tmp is ignored. It uses os, json and sys (and vfs, hashlib, binascii for a slot that runs
packages from a ROMFS image), so this file runs unchanged on both sides.

A slot that runs packages from a ROMFS image boots only against that image. When the partition holds
another one (a radio update's slot on trial, or the old slot after a rollback), the slot's own copy
of its image (slot_<x>/romfs.img, kept there by the radio update) is written into the partition first,
by the slot's hal/rom_partition.py.
"""

import json
import os
import sys

STATE = "boot_state.json"
TMP = STATE + ".tmp"
MAX_ATTEMPTS = 3
DEFAULT_ENTRY = "flight.main"
SLOTS = ("a", "b")
ROM_WRITES = 1  # start() writes a slot's ROMFS image into the partition (the radio update checks)

# Lines the ground deploy tool waits for on the console (keep in sync with board_tools/flash/deploy_boot.py).
GOOD_LINE = "boot_select: slot %s good"
ROLLBACK_LINE = "boot_select: slot %s failed %d boots, rolled back to %s"

root = None  # boot directory, fixed at start() so a later os.chdir in the app cannot move the state file
running = None  # slot the app was imported from
_again = False  # imported again by the running app (main.py had let go): let_go() after use


def _cwd():
    cwd = os.getcwd()
    return "" if cwd == "/" else cwd.rstrip("/")


def _root():
    global root, running, _again
    if root is None:
        for p in sys.path:  # imported again while the app runs: the slot start() put first
            if isinstance(p, str) and p[-7:-1] == "/slot_" and p[-1:] in SLOTS:
                root, running, _again = p[:-7], p[-1], True
                return root
        root = _cwd()
    return root


def path(name):
    return _root() + "/" + name


def slot_dir(slot):
    return path("slot_" + slot)


def _is_dir(p):
    try:
        return os.stat(p)[0] & 0x4000 != 0
    except OSError:
        return False


def _valid(st):
    if not isinstance(st, dict) or st.get("active") not in SLOTS:
        return False
    pending = st.get("pending")
    if pending is not None and (pending not in SLOTS or pending == st["active"]):
        return False
    return isinstance(st.get("attempts", 0), int) and isinstance(st.get("max_attempts", 1), int)


def default_state():
    # No usable pointer at all (fresh board or both files lost): take the first slot that exists.
    active = "a"
    for s in SLOTS:
        if _is_dir(slot_dir(s)):
            active = s
            break
    return {"active": active, "pending": None, "attempts": 0, "max_attempts": MAX_ATTEMPTS, "slots": {}}


def read_state():
    for name in (STATE, TMP):
        try:
            with open(path(name)) as f:
                st = json.load(f)
        except (OSError, ValueError):  # missing, or torn by a power cut mid-write
            continue
        if _valid(st):
            st.setdefault("pending", None)
            st.setdefault("attempts", 0)
            st.setdefault("max_attempts", MAX_ATTEMPTS)
            st.setdefault("slots", {})
            return st
    return default_state()


def write_state(st):
    tmp = path(TMP)
    with open(tmp, "w") as f:
        json.dump(st, f)
    # rename() is the commit point: the old pointer stays valid until it returns.
    os.rename(tmp, path(STATE))


def select():
    """Decide which slot this boot runs and persist the trial counter; returns (slot, state)."""
    st = read_state()
    pending = st["pending"]
    if pending is None:
        return st["active"], st
    if st["attempts"] >= st["max_attempts"]:
        st["pending"] = None
        st["attempts"] = 0
        st["rolled_back"] = pending
        write_state(st)
        print(ROLLBACK_LINE % (pending, st["max_attempts"], st["active"]))
        return st["active"], st
    st["attempts"] += 1
    write_state(st)
    return pending, st


def _print_exception(exc):
    pe = getattr(sys, "print_exception", None)
    if pe:
        pe(exc)
    else:
        import traceback

        traceback.print_exception(exc)


def _reset():
    # A failed trial boot restarts so the next attempt is counted. A soft reset keeps a native-USB
    # console attached (a hard reset re-enumerates it); hangs are the watchdog's job.
    try:
        import machine

        machine.soft_reset()
    except (ImportError, AttributeError):
        pass
    raise SystemExit()  # what soft_reset raises on most ports: main.py ends, the board soft-reboots


def rom_holds(want):
    """True when ROM partition 0 starts with the ROMFS image `want` ([size, sha256 hex]) that a slot
    was built with (its packages import from /rom); False without one or with another build's."""
    try:
        import binascii
        import hashlib

        import vfs

        digest = hashlib.sha256(vfs.rom_ioctl(2, 0)[: want[0]]).digest()
    except (ImportError, AttributeError, OSError, TypeError):
        return False
    return binascii.hexlify(digest).decode() == want[1]


def start(reset=_reset):
    """Pick this boot's slot, count a trial, put the slot first on sys.path and import its entry
    (writing the slot's ROMFS image into the partition first when it needs one): the entry's main,
    or None when the import failed (failed() has dealt with it) or it has none."""
    global root, running
    if root is None:
        root = _cwd()
    slot, st = select()
    info = st["slots"].get(slot) or {}
    entry = info.get("entry") or DEFAULT_ENTRY
    if st["pending"] == slot:
        print("boot_select: trying slot %s (attempt %d/%d)" % (slot, st["attempts"], st["max_attempts"]))
    else:
        print("boot_select: booting slot %s" % slot)
    sys.path.insert(0, slot_dir(slot))
    running = slot
    try:
        rom = info.get("romfs")
        if rom and not rom_holds(rom):  # the slot's copy of its image first (hal/rom_partition.py)
            from hal.rom_partition import boot_write

            boot_write(slot, slot_dir(slot), rom, rom_holds)
            del boot_write
        __import__(entry)
    except KeyboardInterrupt:  # an operator's Ctrl-C is not a failed boot
        raise
    except Exception as exc:
        failed(exc, reset)
        return None
    return getattr(sys.modules[entry], "main", None)


def failed(exc, reset=_reset):
    """The running slot's app raised `exc`: say so; a slot on trial restarts so the next attempt
    counts. The known-good slot failing has nowhere to fall back to: the board stays at the REPL."""
    _root()
    print("boot_select: slot %s failed: %r" % (running, exc))
    _print_exception(exc)
    if read_state()["pending"] == running:
        reset()


def boot(reset=_reset):
    main = start(reset)
    if main:
        try:
            main()
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            failed(exc, reset)


def let_go():
    """Forget this module when the running app imported it again: it holds no heap while the app runs."""
    if _again:
        sys.modules.pop(__name__, None)


def mark_good():
    """Called by the app once its health checks pass: the running slot becomes the active one."""
    _root()
    st = read_state()
    if running is not None and st["pending"] == running:
        st["active"] = running
        st["pending"] = None
        st["attempts"] = 0
        st.pop("rolled_back", None)
        write_state(st)
    print(GOOD_LINE % running)
    let_go()
