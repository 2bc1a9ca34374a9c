"""What to uplink for an in-orbit update: a new bundle against the manifest of the board's active slot.

    plan = plan_uplink("dist/emulated", active_manifest)   # the dict downlinked from the board
    for rel in plan.uplink:                                 # manifest.json last
        cfdp_put(plan.bundle / rel, "slot_%s/%s" % (inactive, rel))

The board (flight/update.py) then builds the rest of the slot from its active slot and verifies it.
Both sides decide the same way: a file of the new manifest whose SHA-256 the active slot's manifest
lists (at any path, as the USB deploy clones by hash) is copied onboard; every other file is uplinked.
manifest.json goes last so that, until the transfer completes, the target slot holds no manifest
naming files it does not have yet. A bundle for another board or another .mpy ABI is refused: the
radio update never changes the firmware. A bundle with another ROMFS image (a board that runs packages
from its ROM partition) uplinks romfs.patch (ground/romfs_patch.py: the image from the ranges of the
running image it shares and the bytes it does not), from which the board builds the slot's copy
of the image; boot_select writes it into the partition when the slot boots.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from firmware_builds.romfs import IMAGE, RomfsError, read_image
from ground import romfs_patch
from ground.errors import GroundError
from hal.rom_partition import PATCH

MANIFEST = "manifest.json"
DELTA = "manifest.delta.json"  # flight/update.py builds the slot's manifest.json from it


class UplinkPlanError(GroundError):
    """The bundle cannot be uplinked as an in-orbit update; the message says why."""


class BoardMismatchError(UplinkPlanError):
    """The bundle was built for another board (board, hal_board) or .mpy ABI than the one flying."""


@dataclass(frozen=True)
class UplinkPlan:
    bundle: Path
    version: str | None
    uplink: tuple[str, ...]  # bundle-relative paths in uplink order, the manifest (or its delta) last
    uplink_bytes: int  # what crosses the link (file contents, manifest or delta included)
    reused: tuple[str, ...]  # files of the new bundle the board copies from its active slot
    removed: tuple[str, ...]  # files of the active slot the new bundle no longer has
    delta: bytes | None = None  # the contents of DELTA, when it goes up instead of manifest.json
    rom_patch: bytes | None = None  # the contents of PATCH, when the ROMFS image changes

    def describe(self) -> str:
        return "version %s: uplink %d files (%d B), %d reused onboard, %d removed" % (
            self.version,
            len(self.uplink),
            self.uplink_bytes,
            len(self.reused),
            len(self.removed),
        )


def _romfs(manifest: dict) -> tuple | None:
    # the image identity the board checks (boot_select: [size, sha256])
    rom = manifest.get("romfs")
    return (rom.get("size"), rom.get("sha256")) if isinstance(rom, dict) else None


def _files(manifest: object, what: str) -> dict[str, dict]:
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        raise UplinkPlanError("%s lacks its files" % what)
    return files


def plan_uplink(bundle_dir: str | Path, active_manifest: dict, active_raw: bytes | None = None) -> UplinkPlan:
    """The files to uplink so the board can stage `bundle_dir` next to its active slot. With the
    active manifest's bytes (`active_raw`, as downlinked), the new manifest goes up as a delta
    against it (DELTA: a few hundred bytes where manifest.json is about 14 KB; the ROMFS image's
    file entries, which the ground plans the next patch from, go as a delta too)."""
    bundle = Path(bundle_dir)
    mpath = bundle / MANIFEST
    try:
        raw = mpath.read_bytes()
        new = json.loads(raw)
    except FileNotFoundError:
        raise UplinkPlanError("%s: no manifest.json (build it with `cubesat build`)" % bundle) from None
    except (OSError, ValueError) as exc:
        raise UplinkPlanError("%s: unreadable manifest: %s" % (mpath, exc)) from None
    files = _files(new, str(mpath))
    old_files = _files(active_manifest, "the active slot's manifest")
    for key in ("board", "hal_board"):
        if new.get(key) != active_manifest.get(key):
            raise BoardMismatchError(
                "%s: built for %s %r, the board runs %r"
                % (bundle, key, new.get(key), active_manifest.get(key))
            )
    nt, ot = new.get("target") or {}, active_manifest.get("target") or {}
    for key in ("mpy_version", "arch"):
        if nt.get(key) != ot.get(key):
            raise BoardMismatchError(
                "%s: target %s %r, the board's firmware loads %r" % (bundle, key, nt.get(key), ot.get(key))
            )
    rom_patch = None
    if _romfs(new) and _romfs(new) != _romfs(active_manifest):
        rom_patch = _rom_patch(bundle, new["romfs"], active_manifest.get("romfs"))
    onboard = {info.get("sha256") for info in old_files.values() if isinstance(info, dict)}
    uplink: list[str] = []
    reused: list[str] = []
    size = len(raw)
    for rel in sorted(files):
        info = files[rel]
        if rel.startswith("/") or ".." in rel.split("/") or rel == MANIFEST or not isinstance(info, dict):
            raise UplinkPlanError("%s: unsafe or malformed manifest entry %r" % (mpath, rel))
        if info.get("sha256") in onboard:
            reused.append(rel)
            continue
        try:
            data = (bundle / rel).read_bytes()
        except OSError:
            raise UplinkPlanError("%s: %s is in the manifest but missing" % (bundle, rel)) from None
        if hashlib.sha256(data).hexdigest() != info.get("sha256"):  # the board would fail staging on it
            raise UplinkPlanError(
                "%s: %s does not match its manifest entry (rebuild the bundle)" % (bundle, rel)
            )
        uplink.append(rel)
        size += len(data)
    removed = tuple(sorted(set(old_files) - set(files)))
    delta = None
    if active_raw is not None:
        fields = {k: v for k, v in new.items() if k != "files"}
        parts = {
            "base": hashlib.sha256(active_raw).hexdigest(),
            "manifest": fields,
            "files": {rel: info for rel, info in files.items() if old_files.get(rel) != info},
            "removed": list(removed),
        }
        rom_new = (new.get("romfs") or {}).get("files")
        rom_old = (active_manifest.get("romfs") or {}).get("files")
        if isinstance(rom_new, dict) and isinstance(rom_old, dict):  # the image's entries as a delta too
            fields["romfs"] = {k: v for k, v in new["romfs"].items() if k != "files"}
            parts["rom_files"] = {rel: info for rel, info in rom_new.items() if rom_old.get(rel) != info}
            parts["rom_removed"] = sorted(set(rom_old) - set(rom_new))
        delta = json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()
        size += len(delta) - len(raw)
    if rom_patch is not None:
        uplink.append(PATCH)
        size += len(rom_patch)
    uplink.append(MANIFEST if delta is None else DELTA)
    return UplinkPlan(
        bundle=bundle,
        version=new.get("version"),
        uplink=tuple(uplink),
        uplink_bytes=size,
        reused=tuple(reused),
        removed=removed,
        delta=delta,
        rom_patch=rom_patch,
    )


def _rom_patch(bundle: Path, entry: dict, running: object) -> bytes:
    # the new image, from what the running one (its manifest's romfs entry, if any) shares with it
    try:
        image = read_image(bundle, entry)
        return romfs_patch.make(image, running if isinstance(running, dict) else None)
    except RomfsError as exc:
        raise UplinkPlanError(str(exc)) from None
    except romfs_patch.RomfsPatchError as exc:
        raise UplinkPlanError("%s: %s: %s" % (bundle, IMAGE, exc)) from None
