"""File stores for the CFDP transaction machines (protocols/cfdp_sender.py, cfdp_receiver.py).

A file store holds named files and moves bytes at file offsets, so that neither machine ever
holds a whole file: the sender reads one segment at a time, the receiver writes each File Data
segment where it belongs.

  create(name)               an empty file (truncated if it exists)
  write(name, offset, data)  data at offset; a gap before it reads as zeros
  read(name, offset, n)      up to n bytes at offset (fewer at the end of the file)
  size(name)                 the file's length
  exists(name), rename(old, new) (replacing new), remove(name)

MemoryFileStore keeps files in bytearrays (tests, RAM disks); HostFileStore keeps them under a
root folder with plain open()/os calls that MicroPython's VFS (FAT, littlefs, the unix port)
and CPython share. Names are relative: no leading "/", no "..", so a name that came over the
link in a Metadata PDU stays inside the root. A missing file or a bad name is an
ArgumentError; a failing filesystem raises OSError (the receiver reports a filestore rejection).
"""

import os

from protocols.errors import ArgumentError


def check_name(name):
    """name as a str, or ArgumentError unless it is a relative name without '..' parts."""
    if isinstance(name, (bytes, bytearray)):
        try:
            name = bytes(name).decode()
        except UnicodeError:
            raise ArgumentError("cfdp.filestore.name", name, "UTF-8 text") from None
    if not isinstance(name, str) or not name or name[0] == "/" or "\x00" in name:
        raise ArgumentError("cfdp.filestore.name", name, "a relative file name")
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise ArgumentError("cfdp.filestore.name", name, "a name without empty, '.' or '..' parts")
    return name


class MemoryFileStore:
    """Files as bytearrays in a dict (`files`: name -> bytearray); a write past max_size is refused
    like a full disk (OSError), so a wild offset cannot ask for gigabytes of RAM."""

    def __init__(self, max_size=1 << 24):
        self.files = {}
        self.max_size = max_size

    def _file(self, name):
        name = check_name(name)
        data = self.files.get(name)
        if data is None:
            raise ArgumentError("cfdp.filestore.name", name, "an existing file")
        return data

    def create(self, name):
        self.files[check_name(name)] = bytearray()

    def exists(self, name):
        return check_name(name) in self.files

    def size(self, name):
        return len(self._file(name))

    def write(self, name, offset, data):
        buf = self._file(name)
        end = offset + len(data)
        if end > self.max_size:
            raise OSError(28)  # ENOSPC: this store's quota
        if end > len(buf):
            buf.extend(bytes(end - len(buf)))
        buf[offset:end] = data

    def read(self, name, offset, n):
        return bytes(self._file(name)[offset : offset + n])

    def rename(self, old, new):
        data = self._file(old)
        del self.files[check_name(old)]
        self.files[check_name(new)] = data

    def remove(self, name):
        self._file(name)
        del self.files[check_name(name)]


class HostFileStore:
    """Files under the folder `root`, with one file kept open between calls (closed by close(),
    rename and remove). Writing past the end first fills the gap with zeros, which every VFS
    accepts (FAT on MicroPython does not seek past the end of a file)."""

    def __init__(self, root=".", max_size=None):
        self.root = root.rstrip("/") or "/"
        self.max_size = max_size  # a write past it is refused like a full disk (OSError)
        self._name = None
        self._fh = None

    def path(self, name):
        return self.root + "/" + check_name(name)

    def close(self):
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._name = None

    def _open(self, name):
        name = check_name(name)
        if self._name != name:
            self.close()
            try:
                self._fh = open(self.path(name), "r+b")  # noqa: SIM115 (kept open between calls)
            except OSError:
                raise ArgumentError("cfdp.filestore.name", name, "an existing file") from None
            self._name = name
        return self._fh

    def _folders(self, name):
        folder = self.root
        for part in check_name(name).split("/")[:-1]:  # make the folders on the way
            folder += "/" + part
            try:
                os.mkdir(folder)
            except OSError:
                pass

    def create(self, name):
        self.close()
        self._folders(name)
        with open(self.path(name), "wb"):
            pass

    def exists(self, name):
        try:
            os.stat(self.path(name))
            return True
        except OSError:
            return False

    def size(self, name):
        fh = self._open(name)
        return fh.seek(0, 2)

    def write(self, name, offset, data):
        if self.max_size is not None and offset + len(data) > self.max_size:
            raise OSError(28)  # ENOSPC: this store's quota
        fh = self._open(name)
        end = fh.seek(0, 2)
        while end < offset:  # zeros up to offset, in small pieces
            n = min(offset - end, 512)
            fh.write(bytes(n))
            end += n
        fh.seek(offset)
        fh.write(data)
        fh.flush()

    def read(self, name, offset, n):
        fh = self._open(name)
        fh.seek(offset)
        return fh.read(n)

    def rename(self, old, new):
        self.close()
        src = self.path(old)
        dst = self.path(new)
        self._folders(new)
        try:
            os.remove(dst)  # MicroPython's FAT rename does not replace
        except OSError:
            pass
        os.rename(src, dst)

    def remove(self, name):
        self.close()
        os.remove(self.path(name))
