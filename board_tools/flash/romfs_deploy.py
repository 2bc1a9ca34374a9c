"""Write a bundle's ROMFS image into the board's ROM partition, the way `mpremote romfs deploy` does
(vfs.rom_ioctl: prepare/erase, write in chunks, complete), with what a deploy needs on top:

* the partition is checked before anything on the board is written (a firmware without ROMFS, or a
  partition too small, is refused in one line that says what to do);
* a partition that already holds the image (same SHA-256) is left alone: flash wears, and a deploy
  that changes only slot files should not rewrite 50 KB of flash;
* the written partition is hashed on the board and compared with the manifest.

The image holds whole packages (firmware_builds/romfs.py); /rom is on the board's sys.path after the
slot, so the slot's modules import them from there. A slot records the image it was built with
(boot_state.json: "romfs": [size, sha256]) and boot_select never runs it against another one: it
writes the slot's own copy of its image (romfs.img in the slot) into the partition first, or fails
that boot. Before rewriting the partition, the deploy copies the image the previous slot runs into
that slot's folder, so a rollback can write it back.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from firmware_builds.romfs import IMAGE, RomfsError, read_image

from .deploy_errors import BoardError, BundleError, RomfsPartitionError, VerifyError

if TYPE_CHECKING:
    from .deploy_bundle import Bundle
    from .deploy_session import _Board

CHUNK = 1024  # bytes per write command (1.4 KB of base64): small enough for any board's raw REPL


def image_of(bundle: Bundle) -> bytes | None:
    """The bundle's ROMFS image, checked against its manifest entry (None: the bundle has none)."""
    entry = bundle.manifest.get("romfs")
    if entry is None:
        return None
    try:
        return read_image(bundle.path, entry)
    except RomfsError as exc:
        raise BundleError(str(exc)) from None


def check_partition(board: _Board, bundle: Bundle, image: bytes) -> int:
    """The size of the board's ROM partition 0; RomfsPartitionError when it cannot hold `image`."""
    pkgs = ", ".join(bundle.manifest["romfs"]["packages"])
    need = "this bundle runs %s in place from a ROMFS partition (%d B)" % (pkgs, len(image))
    board.exec("import vfs", "looking for ROMFS")
    if not board.eval("hasattr(vfs, 'rom_ioctl')", "looking for ROMFS"):
        raise RomfsPartitionError(
            "the board's firmware has no ROMFS support (vfs.rom_ioctl): %s; flash a firmware that "
            "has one (MicroPython 1.25 or later with a ROMFS partition)" % need
        )
    count = board.eval("vfs.rom_ioctl(1)", "counting ROM partitions")
    size = board.eval("len(vfs.rom_ioctl(2, 0))", "reading the ROM partition") if count > 0 else 0
    if size < len(image):
        raise RomfsPartitionError(
            "the board's ROM partition holds %d B: %s; use a firmware with a larger partition, "
            "or the frozen profile (manifest.py)" % (size, need)
        )
    return size


def write_image(
    board: _Board, image: bytes, size: int, say: Callable[[str], None], keep: tuple[str, list] | None = None
) -> bool:
    """Put `image` at the start of ROM partition 0 (`size` bytes, from check_partition) unless it
    is there already; True if written. `keep`: (slot, [size, sha256]) of the image the previous
    slot runs, which goes into that slot's folder first if the partition holds it."""
    want = hashlib.sha256(image).hexdigest()
    # _rhx: firmware_builds/deploy_helpers.py, loaded with the session
    if board.eval("_rhx(%d)" % len(image), "hashing the ROM partition") == want:
        say("ROMFS: the partition already holds this image (%d B, %s)" % (len(image), want[:12]))
        return False
    if keep is not None:
        _keep_running(board, keep[0], keep[1], say)
    # nothing may run from /rom while it is rewritten (_rum, _rwr: firmware_builds/deploy_helpers.py)
    board.exec("_rum()", "unmounting /rom")
    block = board.eval("vfs.rom_ioctl(6, 0)", "reading the ROM block size")
    block = block if block > 0 else size
    if block < size:  # erase only the blocks the image covers, 32 KB per command (as mpremote)
        offset, min_write = 0, 4
        while offset < len(image):
            n = -(-min(len(image) - offset, 32768) // block) * block
            min_write = board.eval("vfs.rom_ioctl(3, 0, %d, %d)" % (offset, n), "erasing the ROM partition")
            offset += n
    else:
        min_write = board.eval("vfs.rom_ioctl(3, 0, %d)" % len(image), "erasing the ROM partition")
    if min_write < 0:
        raise BoardError("the board refused to erase its ROM partition (error %d)" % min_write)
    chunk = max(CHUNK, min_write)
    for offset in range(0, len(image), chunk):
        part = image[offset : offset + chunk]
        part += bytes(-len(part) % min_write)  # whole write units
        code = "_rwr(%d, %r)" % (offset, binascii.b2a_base64(part, newline=False))
        board.exec(code, "writing the ROM partition at %d" % offset)
    board.eval("vfs.rom_ioctl(5, 0)", "completing the ROM partition write")
    got = board.eval("_rhx(%d)" % len(image), "hashing the written ROM partition")
    if got != want:
        raise VerifyError(
            "the ROM partition hashes to %s after writing, expected %s" % (got, want), {IMAGE: (want, got)}
        )
    say("ROMFS: wrote and verified %d B (%s)" % (len(image), want[:12]))
    return True


def _keep_running(board: _Board, slot: str, rom: list, say: Callable[[str], None]) -> None:
    # the image the previous slot runs, copied on the board from the partition into its folder, so
    # that boot_select can write it back on a rollback (hal/rom_partition.py); not if the partition
    # holds another (that slot could not run anyway)
    if board.eval("_rhx(%d)" % rom[0], "hashing the ROM partition") != rom[1]:
        return
    rel = "slot_%s/%s" % (slot, IMAGE)
    if board.hash_file(rel, "hashing %s" % rel) != rom[1]:
        board.exec("_rsv(%r, %d)" % (board.path(rel), rom[0]), "copying the ROM partition to %s" % rel, 60)
        got = board.hash_file(rel, "hashing %s" % rel)
        if got != rom[1]:
            raise VerifyError(
                "%s hashes to %s after copying, expected %s" % (rel, got, rom[1]), {rel: (rom[1], got)}
            )
    say("ROMFS: slot %s keeps a copy of its image (%d B): a rollback writes it back" % (slot, rom[0]))
