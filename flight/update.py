"""In-orbit update over the radio: complete, verify and switch to the inactive A/B slot.

The ground uplinks (CFDP) only the changed files into slot_<inactive>/, and the new manifest as a
delta against the active slot's (manifest.delta.json: the new manifest's fields, the file entries
that differ, the files it drops, and the SHA-256 of the active manifest it was planned against), so
a one-module update costs that module and a few hundred bytes (the whole manifest.json would be
about 14 KB); ground/bundle_diff.py says what. stage() first writes the slot's manifest.json from
the active one and the delta. A whole manifest.json uplinked instead is taken as it is. Then, by
telecommand:

    u = Update()           # on a board: boot_select's boot directory and module
    u.stage()              # checks and plans; raises UpdateError when refused
    while u.step(): ...    # one bounded piece per call: once per executive tick
    u.switch()             # "staged" only: boot pointer -> the new slot on trial; reboot to try it

stage() checks the manifest against the active slot's, then step() removes what the new manifest
does not list, keeps each file the target already holds with the right SHA-256, copies the others
from the active slot (same SHA-256, any path: as the USB deploy clones) and re-reads every copy. A
file neither uplinked intact nor onboard fails the staging naming it: the ground uplinks it again.
A new ROMFS image (packages run from the board's ROM partition) is staged first: the slot's copy
romfs.img is built from the uplinked romfs.patch, the running image is saved into the active slot
for a rollback, and boot_select writes the copy into the partition when the slot boots
(hal/rom_partition.py). Nothing is persisted until switch(): after a power cut or a reboot, stage()
again from scratch (the files already right are kept). The pointer is boot_select's own, in the
shape `cubesat flash deploy` writes, so USB deploy and radio update share one format.

step() lists one folder (the sweep) or hashes or copies one 512-byte chunk. stage() reads the
manifests an entry at a time (flight/slot_manifest.py: parsed, one is 17 KB for the RP2040's
bundle). Held while staging: one 512-byte buffer (a ROMFS image shares it), at most two open files,
the new manifest's paths and their digests in one bytearray (`update` in
firmware_builds/heap_needed.json, measured by `cubesat heap`).
Runs unchanged on MicroPython and CPython (tests inject boot_select: Update(root, boot=module)).
"""

import binascii
import hashlib
import os

from flight import slot_manifest as manifest
from flight.errors import UpdateError

CHUNK = 512
MANIFEST = "manifest.json"
DELTA = "manifest.delta.json"

# status()["state"]
IDLE = "idle"
STAGING = "staging"
STAGED = "staged"
FAILED = "failed"
SWITCHED = "switched"  # pointer written: the new slot runs on trial after the next reboot


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def _is_dir(p):
    try:
        return os.stat(p)[0] & 0x4000 != 0
    except OSError:
        return False


def _module_files(name):
    base = name.replace(".", "/")
    return [base + ext for ext in (".mpy", ".py", "/__init__.mpy", "/__init__.py")]


def _safe(rel):
    return bool(rel) and rel != MANIFEST and rel[0] != "/" and ".." not in rel.split("/")


class Update:
    def __init__(self, root=None, boot=None):
        if boot is None:
            import boot_select as boot
        if root is None:
            root = boot._root()
        else:
            root = "" if root == "/" else root.rstrip("/")
            if boot.root is None:
                boot.root = root  # fixed as boot() fixes it: read_state/write_state use the same file
            elif boot.root != root:
                raise UpdateError("root %r is not boot_select's boot directory %r" % (root, boot.root))
        self._boot = boot
        self._root = root
        self._buf = bytearray(CHUNK)
        self._mv = memoryview(self._buf)
        self._src = self._dst = None
        self._rom = None  # a generator while a new ROMFS image stages (hal/rom_partition.py)
        self._reset(IDLE)

    def _reset(self, state, reason=None):
        self._close()
        self.state = state
        self.reason = reason
        self._target = self._active = None
        self._order = []  # the new manifest's paths, sorted: staging order
        self._sha = b""  # their SHA-256 digests, 32 bytes each, in that order
        self._from = []  # per path: the active slot's file with that content, or None
        self._need = set()  # folders (relative) that hold a file of the new manifest
        self._dirs = None  # sweep: folders still to list (relative), None once swept
        self._stale = []  # folders the new manifest does not use: removed after the sweep
        self._slot_info = None
        self._manifest_sha = None
        self._i = 0  # files verified so far
        self._h = None
        self._copied = False

    def _close(self):
        if self._rom is not None:
            self._rom.close()  # its open files
            self._rom = None
        for f in (self._src, self._dst):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self._src = self._dst = self._h = None

    def _slot(self, slot, rel=""):
        return self._root + "/slot_" + slot + ("/" + rel if rel else "")

    def status(self):
        st = self._boot.read_state()
        return {
            "state": self.state,
            "active": st["active"],
            "pending": st["pending"],
            "attempts": st["attempts"],
            "max_attempts": st["max_attempts"],
            "rolled_back": st.get("rolled_back"),
            "target": self._target,
            "done": self._i,
            "total": len(self._order),
            "reason": self.reason,
        }

    def cancel(self):
        """Back to idle. Files already in the target slot stay (harmless: it is not booted); a
        pointer already switched stays switched."""
        self._reset(IDLE)

    def stage(self):
        """Check the uplinked manifest and plan the staging; raises UpdateError when refused."""
        self._reset(IDLE)
        boot = self._boot
        st = boot.read_state()
        if st["pending"] is not None:
            raise UpdateError("slot %s is on trial: wait for mark_good or its rollback" % st["pending"])
        active = st["active"]
        target = "b" if active == "a" else "a"
        if getattr(boot, "running", None) == target:  # never rewrite the slot the app runs from
            raise UpdateError("slot %s is running: cannot stage into it" % target)
        old = manifest.top(self._slot(active, MANIFEST))
        if old is None:
            raise UpdateError("active slot_%s has no valid manifest.json: update by USB deploy" % active)
        have = manifest.facts(old)
        if _exists(self._slot(target, DELTA)):
            base = binascii.hexlify(self._hash_now(self._slot(active, MANIFEST))).decode()
            manifest.apply_delta(
                self._slot(target, DELTA),
                self._slot(active, MANIFEST),
                self._slot(target, MANIFEST),
                old,
                base,
            )
        del old
        path = self._slot(target, MANIFEST)
        new = manifest.top(path)
        if new is None:
            raise UpdateError("no valid slot_%s/manifest.json: uplink it first" % target)
        got = manifest.facts(new)
        manifest.check_target(got, have)
        entry = (st["slots"].get(active) or {}).get("entry") or boot.DEFAULT_ENTRY
        wanted = _module_files(entry)
        in_rom = (new.get("romfs") or {}).get("files") or {}
        found = any(rel in in_rom for rel in wanted)
        order = []
        sha = bytearray()  # the digests back to back: no object per file
        for rel, f in manifest.entries(path):  # one entry in RAM at a time
            d = manifest.digest(f)
            if d is None or not _safe(rel):
                raise UpdateError("manifest entry %r is invalid" % rel)
            order.append(rel)
            sha += d
            found = found or rel in wanted
        if not found:  # caught here, not after max_attempts failed boots
            raise UpdateError("entry module %s is not in the new manifest" % entry)
        # what switch() writes into the pointer: the shape `cubesat flash deploy` writes
        info = {"entry": entry}
        for key in ("version", "git_revision", "board"):
            info[key] = new.get(key)
        if got[4]:
            info["romfs"] = got[4]
        if got[4] and got[4] != have[4]:  # the slot's copy of its new image first
            from hal import rom_partition

            self._rom = rom_partition.stage(
                self._slot(target), got[4], self._slot(active), have[4], boot, self._buf
            )
        del new
        self._order, self._sha = order, sha
        self._from = self._donors(self._slot(active, MANIFEST))
        self._slot_info = info
        self._manifest_sha = self._hash_now(self._slot(target, MANIFEST))
        for rel in order:
            parts = rel.split("/")
            for i in range(1, len(parts)):
                self._need.add("/".join(parts[:i]))
        self._active, self._target = active, target
        self._dirs = [""]
        self.state = STAGING

    def _donors(self, path):
        # per file of the new manifest, the active slot's file with the same content (same path
        # first, else any path, as deploy clones by hash), or None: it must come by uplink. Two
        # passes over the active manifest, an entry at a time.
        order, sha = self._order, self._sha
        src = [None] * len(order)
        for rel, f in manifest.entries(path):
            i = self._find(rel)
            if i >= 0 and manifest.digest(f) == sha[32 * i : 32 * i + 32]:
                src[i] = order[i]  # the same string object: no extra RAM
        other = {}  # digest -> indexes of files whose content moved or is new
        for i in range(len(order)):
            if src[i] is None:
                other.setdefault(bytes(sha[32 * i : 32 * i + 32]), []).append(i)
        if other:
            for rel, f in manifest.entries(path):
                for i in other.pop(manifest.digest(f), ()):
                    src[i] = rel
        return src

    def _hash_now(self, p):
        # manifest.json only (tens of KB): the fingerprint switch() checks against
        h = hashlib.sha256()
        with open(p, "rb") as f:
            while True:
                n = f.readinto(self._buf)
                if not n:
                    return h.digest()
                h.update(self._mv[:n])

    def step(self):
        """One bounded piece of staging: list one folder, or hash or copy one 512-byte chunk.
        Returns True while work remains; never raises (a failure sets state "failed" and reason)."""
        if self.state != STAGING:
            return False
        try:
            if self._rom is not None:
                try:
                    next(self._rom)
                except StopIteration:
                    self._rom = None
            elif self._dirs is not None:
                self._sweep()
            elif self._i < len(self._order):
                self._file()
            else:
                self._close()
                self.state = STAGED
        except OSError as exc:  # a full or failing flash: the reason names the file (or the sweep)
            where = "slot_" + self._target if self._dirs is not None else self._order[self._i]
            self._fail("%s: %r" % ("romfs.img" if self._rom is not None else where, exc))
        return self.state == STAGING

    def _fail(self, reason):
        self._close()
        self.state = FAILED
        self.reason = reason

    def _sweep(self):
        # Remove what the new manifest does not list before copying: frees flash for the copies and
        # clears a file where a folder must go (or the reverse).
        if not self._dirs:
            for p in reversed(self._stale):  # deepest first: each is empty by now
                os.rmdir(p)
            self._dirs = self._stale = None
            return
        d = self._dirs.pop()
        full = self._slot(self._target, d)
        prefix = d + "/" if d else ""
        for name in os.listdir(full):
            rel = prefix + name
            p = full + "/" + name
            if _is_dir(p):
                self._dirs.append(rel)
                if rel not in self._need:
                    self._stale.append(p)
            elif rel not in (MANIFEST, "romfs.img") and self._find(rel) < 0:
                os.remove(p)

    def _find(self, rel):
        lo, hi = 0, len(self._order)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._order[mid] < rel:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self._order) and self._order[lo] == rel else -1

    def _file(self):
        rel = self._order[self._i]
        if self._dst is not None:  # copying from the active slot
            n = self._src.readinto(self._buf)
            if n:
                self._dst.write(self._mv[:n])
                return
            self._close()
            self._copied = True  # re-read what was written: flash that did not hold fails here
            return
        if self._h is None:
            try:
                self._src = open(self._slot(self._target, rel), "rb")  # noqa: SIM115 (open across steps)
            except OSError:
                self._mismatch(rel, True)
                return
            self._h = hashlib.sha256()
        n = self._src.readinto(self._buf)
        if n:
            self._h.update(self._mv[:n])
            return
        i = self._i
        ok = self._h.digest() == self._sha[32 * i : 32 * i + 32]
        self._close()
        if ok:
            self._i += 1
            self._copied = False
            if self._i == len(self._order):
                self.state = STAGED
        else:
            self._mismatch(rel, False)

    def _mismatch(self, rel, missing):
        if self._copied:
            self._fail("%s: copy from slot %s does not verify" % (rel, self._active))
            return
        src = self._from[self._i]
        if src is None:
            self._fail(
                "%s: %s, uplink it%s"
                % (rel, "missing" if missing else "sha256 mismatch", "" if missing else " again")
            )
            return
        self._mkdirs(rel)
        self._src = open(self._slot(self._active, src), "rb")  # noqa: SIM115
        self._dst = open(self._slot(self._target, rel), "wb")  # noqa: SIM115

    def _mkdirs(self, rel):
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            p = self._slot(self._target, "/".join(parts[:i]))
            try:
                os.mkdir(p)
            except OSError:
                if not _is_dir(p):
                    raise

    def switch(self, max_attempts=3):
        """Staged only: write the boot pointer with the new slot pending (on trial, attempts 0)."""
        if self.state != STAGED:
            raise UpdateError("nothing staged (state %s)" % self.state)
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise UpdateError("max_attempts must be >= 1, got %r" % (max_attempts,))
        boot = self._boot
        st = boot.read_state()
        if st["active"] != self._active or st["pending"] is not None:
            raise UpdateError("boot pointer changed since staging: stage again")
        try:
            same = self._hash_now(self._slot(self._target, MANIFEST)) == self._manifest_sha
        except OSError:
            same = False
        if not same:  # a later uplink: the verified files may not be what this manifest lists
            self._fail("slot_%s/manifest.json changed since staging" % self._target)
            raise UpdateError(self.reason + ": stage again")
        new = {k: v for k, v in st.items() if k != "rolled_back"}
        new["pending"] = self._target
        new["attempts"] = 0
        new["max_attempts"] = max_attempts
        new["slots"] = dict(st.get("slots") or {})
        new["slots"][self._target] = self._slot_info
        boot.write_state(new)
        self.state = SWITCHED
