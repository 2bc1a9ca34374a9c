"""Deploy planning: a bundle folder as the deploy reads it (manifest checked file by file), the
board's firmware as it reports itself, and the checks that refuse a bundle the board cannot run
(another sys.platform, another .mpy ABI, too little heap) before anything is written."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import romfs_deploy
from .deploy_errors import AbiMismatchError, BundleError, HeapTooSmallError, WrongBoardError

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


def _arch_name(idx: int) -> str | None:
    return ARCHS[idx] if idx < len(ARCHS) else "arch#%d" % idx


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
