"""romfs.patch: a new ROMFS image as the board can build it from the image it runs (hal/rom_partition.py
reads the patch). The ground knows the running image from the active slot's manifest: its files'
paths, sizes and SHA-256, from which the build's layout gives every record and every file's place.
The new image's files that the running image holds (same SHA-256) and the records that are the same
become copies of ranges of the partition, merged where they run on; the rest (changed and new files,
changed records) goes as literal bytes. A one-module change costs that module and a few dozen bytes
on the link, where the whole image is 64 KB. A running image of another layout gets literal bytes
only; the board checks the result's SHA-256 either way.

    b"RFP1", then records: b"L" + u32 n + n bytes | b"R" + u32 offset + u32 n (from the partition)

The image format is MicroPython's (extmod/vfs_rom.c, written by mpremote's VfsRomWriter): a header
and records of (kind, length, payload) as variable-length unsigned ints, files holding their data
verbatim, directories holding records.
"""

from __future__ import annotations

import hashlib
import struct
import tempfile
from pathlib import Path

from firmware_builds.romfs import HEADER, tree_image
from ground.errors import GroundError
from hal.rom_partition import MAGIC

_DIRECTORY = 4
_FILE = 5
_VERBATIM = 2


class RomfsPatchError(GroundError, ValueError):
    """The image cannot be read as ROMFS, or a patch cannot be made from it."""


def _uint(data: bytes, i: int) -> tuple[int, int]:
    value = 0
    while True:
        if i >= len(data):
            raise RomfsPatchError("ROMFS image truncated at %d" % i)
        b = data[i]
        i += 1
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            return value, i


def files(image: bytes) -> list[tuple[str, int, int]]:
    """The image's files as (path, offset of the data, size), in image order."""
    if not image.startswith(HEADER):
        raise RomfsPatchError("not a ROMFS image (header %r)" % image[:3])
    size, start = _uint(image, len(HEADER))
    if start + size > len(image):
        raise RomfsPatchError("ROMFS image says %d B, holds %d" % (size, len(image) - start))
    out: list[tuple[str, int, int]] = []
    _walk(image, start, start + size, "", out)
    return out


def _walk(image: bytes, i: int, end: int, prefix: str, out: list) -> None:
    while i < end:
        kind, i = _uint(image, i)
        n, i = _uint(image, i)
        body, i = i, i + n
        if i > end:
            raise RomfsPatchError("ROMFS record at %d overruns its directory" % body)
        if kind in (_DIRECTORY, _FILE):
            k, j = _uint(image, body)
            try:
                name = image[j : j + k].decode("ascii")
            except UnicodeDecodeError:
                raise RomfsPatchError("ROMFS name at %d is not ASCII" % j) from None
            if kind == _DIRECTORY:
                _walk(image, j + k, i, prefix + name + "/", out)
                continue
            sub, j = _uint(image, j + k)
            m, j = _uint(image, j)
            if sub != _VERBATIM:
                raise RomfsPatchError("%s%s: file data of kind %d is not supported" % (prefix, name, sub))
            out.append((prefix + name, j, m))


def _shape(onboard: dict[str, dict], size: object) -> bytes:
    # the running image as the build made it, from its files' paths and sizes (firmware_builds/
    # romfs.py lays out the same tree): the filesystem's records exact, each file's data zeros (its
    # SHA-256 is all we know). Entries that cannot be the `size` B image's files: ValueError.
    sizes = [info["size"] for info in onboard.values()]
    if (
        not all(isinstance(n, int) and n >= 0 for n in sizes)
        or not isinstance(size, int)
        or sum(sizes) > size
    ):
        raise ValueError("file sizes that do not fit the image")
    with tempfile.TemporaryDirectory(prefix="cubesat-romfs-shape-") as d:
        for path, info in onboard.items():
            parts = path.split("/")
            if "" in parts or ".." in parts:
                raise ValueError("unsafe path %r" % path)
            (Path(d) / path).parent.mkdir(parents=True, exist_ok=True)
            (Path(d) / path).write_bytes(bytes(info["size"]))
        return tree_image(Path(d))


def make(image: bytes, running: dict | None) -> bytes:
    """The patch that builds `image` on a board whose partition holds the image `running` describes
    (the active manifest's romfs entry: size, sha256, files {path: {size, sha256}}; None: no image)."""
    old, old_files, known = _running(running)
    onboard = running.get("files") if old else {}
    by_sha = {info.get("sha256"): old_files[p] for p, info in sorted(onboard.items()) if p in old_files}
    by_sha.pop(None, None)  # entries without their SHA-256 (their contents unknown)
    segments = []  # (offset in the new image, size, offset in the old image or None)
    at = 0
    resume = None  # where the old image goes on after the file before: the same records may follow
    for path, offset, size in files(image):
        if offset > at:
            n = offset - at
            same = resume is not None and old[resume : resume + n] == image[at:offset]
            segments.append((at, n, resume if same and all(known[resume : resume + n]) else None))
        digest = hashlib.sha256(image[offset : offset + size]).hexdigest()
        mine = onboard.get(path)
        src = (
            old_files[path] if isinstance(mine, dict) and mine.get("sha256") == digest else by_sha.get(digest)
        )
        segments.append((offset, size, src[0] if src else None))
        replaced = src or old_files.get(path)
        resume = replaced[0] + replaced[1] if replaced else None
        at = offset + size
    segments.append((at, len(image) - at, None))
    return _encode(image, segments)


def _running(running: dict | None) -> tuple[bytes, dict[str, tuple[int, int]], bytearray]:
    # the running image's shape, where its files are, and which of its bytes are records (known)
    onboard = running.get("files") if isinstance(running, dict) else None
    if not isinstance(onboard, dict) or not onboard:
        return b"", {}, bytearray()
    try:
        old = _shape(onboard, running.get("size"))
    except (TypeError, ValueError, KeyError, AttributeError, OSError):
        return b"", {}, bytearray()
    if len(old) != running.get("size"):  # not the layout the build makes: copy nothing from it
        return b"", {}, bytearray()
    where = {}
    known = bytearray(b"\x01" * len(old))
    for path, offset, size in files(old):
        where[path] = (offset, size)
        known[offset : offset + size] = bytes(size)
    return old, where, known


def _merge(runs: list[list]) -> list[list]:
    out: list[list] = []
    for new, n, old in runs:
        last = out[-1] if out else None
        if n and last and (old is None) == (last[2] is None) and (old is None or last[2] + last[1] == old):
            last[1] += n
        elif n:
            out.append([new, n, old])
    return out


def _encode(image: bytes, segments: list[tuple[int, int, int | None]]) -> bytes:
    runs = _merge([list(s) for s in segments])
    runs = _merge([[new, n, None if n <= 9 else old] for new, n, old in runs])  # a copy record: 9 B
    out = bytearray(MAGIC)
    for new, n, old in runs:
        if old is None:
            out += b"L" + struct.pack(">I", n) + image[new : new + n]
        else:
            out += b"R" + struct.pack(">II", old, n)
    return bytes(out)
