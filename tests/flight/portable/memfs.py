"""An in-memory board filesystem that can lose power at any byte of any write (for tests).

`budget` is how many more bytes (or rename/remove operations) reach the medium before the
power cut; a cut write leaves exactly the bytes written before it, like a NOR flash page
program interrupted mid-way. `PowerCut` stands for the reset that follows.
"""


class PowerCut(Exception):  # noqa: N818 - the event, not an error of the code under test
    pass


class MemFs:
    def __init__(self, files=None):
        self.files = {} if files is None else {k: bytearray(v) for k, v in files.items()}
        self.budget = None  # None: no cut planned

    def clone(self):
        return MemFs(self.files)

    def _spend(self, n):
        """How many of n units go through before the cut (raises after applying them)."""
        if self.budget is None:
            return n
        if self.budget >= n:
            self.budget -= n
            return n
        done = self.budget
        self.budget = 0
        return done

    def _write(self, name, data, append):
        if not append:
            self.files[name] = bytearray()  # truncate-on-open (FAT-like, the worst case)
        buf = self.files.setdefault(name, bytearray())
        n = self._spend(len(data))
        buf += data[:n]
        if n < len(data):
            raise PowerCut("cut after %d of %d bytes of %s" % (n, len(data), name))

    def read(self, name):
        b = self.files.get(name)
        return None if b is None else bytes(b)

    def write(self, name, data):
        if self.budget is not None and self.budget == 0:
            raise PowerCut("cut before opening %s" % name)
        self._write(name, data, False)

    def append(self, name, data):
        self._write(name, data, True)

    def read_at(self, name, offset, n):
        return bytes(self.files.get(name, b"")[offset : offset + n])

    def size(self, name):
        return len(self.files.get(name, b""))

    def remove(self, name):
        if self._spend(1) < 1:
            raise PowerCut("cut before removing %s" % name)
        self.files.pop(name, None)

    def rename(self, old, new):
        if self._spend(1) < 1:
            raise PowerCut("cut before renaming %s" % old)
        self.files[new] = self.files.pop(old)
