"""The board's ROM partition (MicroPython >= 1.25, `vfs.rom_ioctl`): where a ROMFS board's packages
run in place (firmware_builds/romfs.py). A slot built for such a board records its image ([size,
sha256]) and keeps a copy of it in its folder (romfs.img) once a radio update has staged it there, or
saved the running one before switching away:

* boot_write(): boot_select writes a slot's copy into the partition when the slot boots and the
  partition holds another image (a new slot on trial, the old one after a rollback). A power cut
  mid-write leaves an image that does not verify, and the next boot writes it again.
* stage(): the radio update (flight/update.py) builds the new slot's copy from romfs.patch
  (ground/romfs_patch.py) and saves the running image, a CHUNK per step.

romfs.patch is the new image as literal runs and ranges of the running image in the partition (so
changing one module costs that module's bytes on the link):

    b"RFP1", then records: b"L" + u32 n + n bytes | b"R" + u32 offset + u32 n (from the partition)

Here, not in the flight package: on a ROMFS board that package is in the image being replaced.
"""

import binascii
import hashlib
import os
import sys

IMAGE = "romfs.img"
PATCH = "romfs.patch"
MAGIC = b"RFP1"
MOUNT = "/rom"
CHUNK = 512


class RomImageError(OSError):
    """A patch or an image copy that does not make the image the slot needs."""


def partition():
    """ROM partition 0 as a memoryview (None: the firmware has no ROMFS partition)."""
    try:
        import vfs

        if vfs.rom_ioctl(1) > 0:
            return vfs.rom_ioctl(2, 0)
    except (ImportError, AttributeError, OSError):
        pass
    return None


def _hex(h):
    return binascii.hexlify(h.digest()).decode()


def _same(path, want, buf):
    # a generator: True when the file holds exactly the image `want`, a chunk hashed per step
    try:
        if os.stat(path)[6] != want[0]:
            return False
        f = open(path, "rb")  # noqa: SIM115 (open across steps)
    except OSError:
        return False
    h = hashlib.sha256()
    mv = memoryview(buf)
    try:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[:n])
            yield
    finally:
        f.close()
    return _hex(h) == want[1]


def _run(gen):
    try:
        while True:
            next(gen)
    except StopIteration as done:
        return done.value


def boot_write(slot, folder, rom, holds):
    """boot_select, booting `slot` (its `folder`): write the slot's copy of its image `rom` into the
    partition (`holds`: boot_select.rom_holds, which checks it there after); raises ImportError when
    the slot cannot run (no copy, or one the partition does not take). Then this module is
    forgotten: only this boot needed it."""
    print("boot_select: writing slot %s's ROMFS image %s" % (slot, rom[1][:12]))
    try:
        restore(folder + "/" + IMAGE, rom, holds)
    except OSError as exc:
        why = "the ROM partition does not hold ROMFS image %s this slot needs: %s" % (rom[1][:12], exc)
        raise ImportError(why) from None
    finally:
        forget()


def restore(path, want, holds):
    """Write the image file `path` (`want`: [size, sha256]) into the partition, verify it there
    (`holds(want)`) and mount it at /rom; raises OSError (RomImageError for a wrong copy) when it
    cannot."""
    import vfs

    buf = bytearray(CHUNK)
    if not _run(_same(path, want, buf)):
        raise RomImageError("%s does not hold ROMFS image %s" % (path, want[1][:12]))
    rom = partition()
    if rom is None or len(rom) < want[0]:
        raise OSError("no ROM partition for a %d B image" % want[0])
    try:  # nothing may run from /rom while it is rewritten
        vfs.umount(MOUNT)
    except OSError:
        pass
    unit = vfs.rom_ioctl(3, 0, want[0])  # erase what the image covers; returns the write unit
    if unit <= 0:
        raise OSError("ROM partition erase failed (%d)" % unit)
    if len(buf) % unit:
        buf = bytearray(unit * (CHUNK // unit + 1))
    mv = memoryview(buf)
    off = 0
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            r = vfs.rom_ioctl(4, 0, off, mv[: -(-n // unit) * unit])  # whole write units
            if r:
                raise OSError("ROM partition write at %d failed (%d)" % (off, r))
            off += n
    vfs.rom_ioctl(5, 0)
    if not holds(want):
        raise OSError("the ROM partition does not verify after writing")
    vfs.mount(vfs.VfsRom(vfs.rom_ioctl(2, 0)), MOUNT)
    for p in (MOUNT + "/lib", MOUNT):  # where mp_init puts them: after the slot's folder
        if p not in sys.path:
            sys.path.insert(1, p)


def stage(target, want, active, keep, boot, buf):
    """A generator, one CHUNK per step: the folder `target` gets romfs.img for image `want`, kept
    if already there, else built from its romfs.patch; then, with `keep` (the running image's
    [size, sha256]), the folder `active` gets a copy of it from the partition, for a rollback to
    write back. `boot` is boot_select, which writes the copy at boot (ROM_WRITES); `buf`: a CHUNK
    of scratch.
    Once done, this module is forgotten (its bytecode, on the heap, goes with the generator).
    Raises OSError."""
    if not getattr(boot, "ROM_WRITES", 0):
        raise RomImageError("this boot_select cannot write the ROM partition: update it by USB deploy")
    part = partition() if keep else None
    if keep and (part is None or not boot.rom_holds(keep)):
        raise RomImageError("the ROM partition does not hold the running image")
    img = target + "/" + IMAGE
    if not (yield from _same(img, want, buf)):
        yield from _patch(target + "/" + PATCH, img, want, part, keep, buf)
    if keep:
        saved = active + "/" + IMAGE
        if not (yield from _same(saved, keep, buf)):
            pieces = (part[i : min(i + CHUNK, keep[0])] for i in range(0, keep[0], CHUNK))
            yield from _write(saved, keep, pieces)
            if not (yield from _same(saved, keep, buf)):
                raise RomImageError("%s does not verify after writing" % saved)
    forget()


def forget():
    """Drop this module from sys.modules and its package (boot_select, the update: once used)."""
    sys.modules.pop(__name__, None)
    hal = sys.modules.get("hal")
    if hal is not None and hasattr(hal, "rom_partition"):
        delattr(hal, "rom_partition")


def _write(path, want, pieces):
    # pieces into path (through a .tmp renamed over it once whole and hashing to `want`)
    tmp = path + ".tmp"
    h = hashlib.sha256()
    size = 0
    whole = False
    try:
        with open(tmp, "wb") as out:
            for piece in pieces:
                size += len(piece)
                if size > want[0]:
                    break
                out.write(piece)
                h.update(piece)
                yield
        whole = size == want[0] and _hex(h) == want[1]
    finally:
        if not whole:  # a failure, a cancel (close()) or a wrong result: nothing half-made stays
            try:
                os.remove(tmp)
            except OSError:
                pass
    if not whole:
        raise RomImageError("%s makes %d B, not ROMFS image %s (%d B)" % (PATCH, size, want[1][:12], want[0]))
    try:
        os.remove(path)  # FAT's rename does not replace
    except OSError:
        pass
    os.rename(tmp, path)


def _patch(path, img, want, part, keep, buf):
    try:
        p = open(path, "rb")  # noqa: SIM115 (open across steps)
    except OSError:
        raise RomImageError("no %s: uplink it" % PATCH) from None
    try:
        if p.read(4) != MAGIC:
            raise RomImageError("%s is not a ROMFS patch" % PATCH)
        yield from _write(img, want, _records(p, part, keep[0] if keep else 0, memoryview(buf)))
    finally:
        p.close()


def _u32(f):
    b = f.read(4)
    if len(b) < 4:
        raise RomImageError("%s is truncated" % PATCH)
    return int.from_bytes(b, "big")


def _records(p, part, size, mv):
    # the patch's bytes in image order, a CHUNK at most at a time: literal runs through `mv`,
    # ranges of the running image (`size` bytes of it in the partition `part`) as slices of it
    while True:
        op = p.read(1)
        if not op:
            return
        if op == b"R":
            at = _u32(p)
            n = _u32(p)
            if at + n > size:
                raise RomImageError("%s copies past the running image (%d + %d B)" % (PATCH, at, n))
            for i in range(at, at + n, CHUNK):
                yield part[i : min(i + CHUNK, at + n)]
        elif op == b"L":
            n = _u32(p)
            while n:
                got = p.readinto(mv[: min(n, CHUNK)])
                if not got:
                    raise RomImageError("%s is truncated" % PATCH)
                n -= got
                yield mv[:got]
        else:
            raise RomImageError("%s has an unknown record %r" % (PATCH, op))
