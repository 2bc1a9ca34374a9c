"""ROMFS images: the packages of a bundle that the board's firmware runs in place from flash.

MicroPython (1.25 and later) maps a ROMFS partition into the address space, mounts it at /rom and
imports .mpy files from it without copying their bytecode or constant strings to the heap
(docs.micropython.org reference/romfs). Stock firmware for boards with a ROMFS partition, such as
the SAMD51 boards with an external SPI flash (64 KiB at the end of the code flash), can so keep the
largest part of the application out of RAM without a custom firmware build.

A target that names `romfs` in firmware_builds/boards.py ({"packages", "partition"}) gets those
packages in `romfs.img`, next to its manifest, instead of in the slot's file tree. The image is made
by mpremote's own builder (what `mpremote romfs build` runs), from the same .mpy files. Packages go
whole: MicroPython finds a package in one sys.path entry only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
import tempfile
from pathlib import Path

IMAGE = "romfs.img"
HEADER = b"\xd2\xcd\x31"  # a ROMFS image's first bytes (extmod/vfs_rom.c)


class RomfsError(Exception):
    """The image cannot be made, or does not fit its partition."""


def make_image(
    bundle: Path, packages: tuple[str, ...] | list[str], partition: int, leave_out: tuple[str, ...] = ()
) -> tuple[bytes, dict]:
    """One ROMFS image of `packages` (compiled .mpy folders inside `bundle`, left in place), without
    the files `leave_out` names (sources, "flight/lora_link.py": what the board never imports).

    Returns the image and its manifest entry: packages, partition size, image size and SHA-256, and
    each file's size and SHA-256 (paths as in the slot, e.g. "flight/app.mpy")."""
    if "hal" in packages:  # the partition is rewritten with hal/rom_partition.py, from the slot
        raise RomfsError("hal cannot go into ROMFS: boot_select writes the partition with its code")
    files: dict[str, dict] = {}
    stage = Path(tempfile.mkdtemp(prefix="cubesat-romfs-"))
    try:
        for pkg in packages:
            src = bundle / pkg
            if not (src / "__init__.mpy").is_file():
                raise RomfsError("package %s is not in the bundle" % pkg)
            shutil.copytree(src, stage / pkg)
            for rel in leave_out:
                (stage / (rel[:-3] + ".mpy")).unlink(missing_ok=True)
            for f in sorted((stage / pkg).rglob("*")):
                if f.is_file():
                    data = f.read_bytes()
                    rel = f.relative_to(stage).as_posix()
                    files[rel] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        image = tree_image(stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if len(image) > partition:
        raise RomfsError(
            "%d B of %s do not fit the board's %d B ROMFS partition"
            % (len(image), ", ".join(packages), partition)
        )
    entry = {
        "packages": list(packages),
        "partition": partition,
        "size": len(image),
        "sha256": hashlib.sha256(image).hexdigest(),
        "files": files,
    }
    return image, entry


def tree_image(folder: Path) -> bytes:
    """The ROMFS image of everything in `folder`, as mpremote's own builder lays it out (what
    `mpremote romfs build` runs): the one layout a bundle's image and the ground's patches assume."""
    from mpremote.romfs import make_romfs

    with contextlib.redirect_stdout(io.StringIO()):  # its progress tree
        return bytes(make_romfs(str(folder), mpy_cross=False))


def read_image(bundle: Path, entry: object) -> bytes:
    """The bundle's romfs.img, checked against its manifest entry (size, SHA-256, the header);
    RomfsError says what is wrong."""
    try:
        image = (bundle / IMAGE).read_bytes()
    except OSError:
        raise RomfsError("%s: %s is in the manifest but missing" % (bundle, IMAGE)) from None
    if (
        not isinstance(entry, dict)
        or len(image) != entry.get("size")
        or hashlib.sha256(image).hexdigest() != entry.get("sha256")
        or not image.startswith(HEADER)
    ):
        raise RomfsError("%s: %s does not match its manifest entry (size/sha256)" % (bundle, IMAGE))
    return image
