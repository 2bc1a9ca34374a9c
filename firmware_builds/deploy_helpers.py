"""Board-side helpers of `cubesat flash deploy` (board_tools/flash/deploy.py), sent as source to the
board's raw REPL once per session: MicroPython code, compiled by mpy-cross in the tests like every
file that runs on a board. One call hashes a whole slot, printing one line per entry, so the host
never holds the board's RAM hostage with a big reply.
"""

import binascii
import hashlib
import json
import os
import sys

_db = bytearray(512)


def _dh(p):
    h = hashlib.sha256()
    mv = memoryview(_db)
    with open(p, "rb") as f:
        while True:
            n = f.readinto(_db)
            if not n:
                break
            h.update(mv[:n])
    return binascii.hexlify(h.digest()).decode()


def _dwalk(d):
    try:
        es = list(os.ilistdir(d))
    except OSError:
        return
    for e in es:
        p = d + "/" + e[0]
        if e[1] & 0x4000:
            print("D", p)
            _dwalk(p)
        else:
            print("F", _dh(p), p)


def _dhx(p):
    try:
        return _dh(p)
    except OSError:
        return None


def _dcp(s, d):
    mv = memoryview(_db)
    with open(s, "rb") as fi, open(d, "wb") as fo:
        while True:
            n = fi.readinto(_db)
            if not n:
                break
            fo.write(mv[:n])


def _dcps(pairs):
    # copies within the board: (source, destination) pairs
    for s, d in pairs:
        _dcp(s, d)


def _drm(files, dirs):
    # stale files of a slot, then the folders they leave empty (a folder still in use stays)
    for p in files:
        os.remove(p)
    for p in dirs:
        try:
            os.rmdir(p)
        except OSError:
            pass


def _dinfo():
    # what the deploy checks a bundle against: .mpy ABI, version, machine, boot directory, platform
    impl = sys.implementation
    return (
        getattr(impl, "_mpy", None),
        tuple(impl.version),
        getattr(impl, "_machine", sys.platform),
        os.getcwd(),
        sys.platform,
    )


def _dcount(d):
    n = 0
    try:
        es = list(os.ilistdir(d))
    except OSError:
        return 0
    for e in es:
        n += _dcount(d + "/" + e[0]) if e[1] & 0x4000 else 1
    return n


def _dslot(p):
    try:
        with open(p + "/manifest.json") as f:
            m = json.load(f)
    except (OSError, ValueError):
        return None
    return {
        "version": m.get("version"),
        "git_revision": m.get("git_revision"),
        "board": m.get("board"),
        "files": len(m.get("files", ())) + 1,
        "on_board": _dcount(p),
    }


def _dmk(ps):
    for p in ps:
        try:
            os.mkdir(p)
        except OSError as e:
            if e.args[0] != 17:
                raise


def _rhx(n):
    # the SHA-256 of the first n bytes of ROM partition 0 (board_tools/flash/romfs_deploy.py)
    import vfs

    return binascii.hexlify(hashlib.sha256(vfs.rom_ioctl(2, 0)[:n]).digest()).decode()


def _rum():
    # nothing may run from /rom while it is rewritten
    import vfs

    try:
        vfs.umount("/rom")
    except OSError:
        pass


def _rsv(p, n):
    # the first n bytes of ROM partition 0 into file p: a slot's copy of the image it runs, which
    # boot_select writes back on a rollback (hal/rom_partition.py)
    import vfs

    rom = vfs.rom_ioctl(2, 0)
    with open(p, "wb") as f:
        for i in range(0, n, 512):
            f.write(rom[i : min(i + 512, n)])


def _rwr(off, b64):
    # one chunk (base64) into ROM partition 0 at offset off
    import vfs

    r = vfs.rom_ioctl(4, 0, off, binascii.a2b_base64(b64))
    if r:
        raise OSError(-r)
