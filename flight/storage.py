"""Power-loss-safe storage on the board filesystem: state in A/B slots, logs as framed records.

A write can be cut at any byte (brown-out, watchdog, battery pulled on the bench), so:

- `SlotStore` keeps a value in two files, `<name>.a` and `<name>.b`. A save writes the whole
  record (sequence number, length, payload, CRC-32) into the slot that does *not* hold the
  newest valid record, reads it back, and only then is it the newest: the switch is the higher
  sequence number, so there is no moment when neither slot is valid. No rename needed (FAT has
  no atomic rename; littlefs does, but we do not rely on it).
- `RecordLog` appends records framed as MAGIC, length, payload, CRC-32. A record cut short
  fails its CRC and the reader resynchronises on the next MAGIC, so a torn tail costs exactly
  the record being written. Two segments (`.0` current, `.1` previous) bound the size.

The filesystem is injected (`HostFs` over `open`/`os`, the same on the board and on CPython)
so tests can cut power at byte N of any write. Every record carries a CRC-32.
"""

import os
import struct

try:
    from binascii import crc32
except ImportError:  # a port built without binascii.crc32
    crc32 = None

if crc32 is None:

    def crc32(data, crc=0):
        crc ^= 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1))
        return crc ^ 0xFFFFFFFF


from flight.errors import StorageError

_SLOT_HDR = ">4sIH"  # magic, sequence number, payload length
_SLOT_MAGIC = b"SLT1"
_SLOT_HDR_LEN = 10
_LOG_MAGIC = b"\xa5\x5a"
_MAX_RECORD = 4096


class HostFs:
    """Files under `root` through builtin open/os: works on MicroPython's VFS and on CPython."""

    def __init__(self, root):
        self.root = root.rstrip("/")
        self._dir = self.root + "/"  # one string joined per file operation, not two
        try:
            os.mkdir(self.root)
        except OSError:
            pass  # exists

    def _p(self, name):
        return self._dir + name

    def read(self, name):
        try:
            with open(self._p(name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def write(self, name, data):
        """Replace the file's content. A file of the same length is overwritten in place ("r+b"):
        the same bytes result, without a truncate (a slot store rewrites same-length records; on
        a host's ext4 a truncate-and-rewrite also forces a writeback: 240 us against 9, which the
        board-speed run would charge as 50 board ms). A cut write leaves old and new bytes mixed
        instead of a short file: both fail the record's CRC."""
        mode = "r+b" if data and self.size(name) == len(data) else "wb"
        with open(self._p(name), mode) as f:
            f.write(data)

    def append(self, name, data):
        with open(self._p(name), "ab") as f:
            f.write(data)

    def read_at(self, name, offset, n):
        """Up to n bytes from `offset` (b"" past the end or for a missing file)."""
        try:
            with open(self._p(name), "rb") as f:
                f.seek(offset)
                return f.read(n)
        except OSError:
            return b""

    def size(self, name):
        try:
            return os.stat(self._p(name))[6]
        except OSError:
            return 0

    def remove(self, name):
        try:
            os.remove(self._p(name))
        except OSError:
            pass

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))


class SlotStore:
    """One value (bytes) kept in two alternating slots; `load()` returns the newest valid one."""

    def __init__(self, fs, name, max_len=_MAX_RECORD):
        self.fs = fs
        self.name = name
        self.max_len = max_len
        self.seq = 0
        self.slot = None  # "a" or "b": where the newest valid record lives
        self.torn = 0  # slots found invalid at load (a cut write or decay): counted, reported

    @staticmethod
    def _decode(raw):
        if raw is None or len(raw) < _SLOT_HDR_LEN + 4:
            return None
        magic, seq, n = struct.unpack_from(_SLOT_HDR, raw, 0)
        if magic != _SLOT_MAGIC or len(raw) != _SLOT_HDR_LEN + n + 4:
            return None
        body = raw[: _SLOT_HDR_LEN + n]
        if struct.unpack_from(">I", raw, _SLOT_HDR_LEN + n)[0] != crc32(body) & 0xFFFFFFFF:
            return None
        return seq, bytes(raw[_SLOT_HDR_LEN : _SLOT_HDR_LEN + n])

    def load(self):
        """Payload of the newest valid slot, or None when neither slot holds one."""
        best = None
        self.torn = 0
        for slot in ("a", "b"):
            raw = self.fs.read(self.name + "." + slot)
            rec = self._decode(raw)
            if rec is None:
                if raw is not None:
                    self.torn += 1
                continue
            # sequence numbers compare with wrap-around (a 32-bit counter never wraps in a mission)
            if best is None or rec[0] > best[0]:
                best = (rec[0], rec[1], slot)
        if best is None:
            self.seq, self.slot = 0, None
            return None
        self.seq, self.slot = best[0], best[2]
        return best[1]

    def save(self, payload):
        if len(payload) > self.max_len:
            raise StorageError(
                "%s: %d bytes exceed the %d-byte slot" % (self.name, len(payload), self.max_len)
            )
        seq = self.seq + 1
        body = struct.pack(_SLOT_HDR, _SLOT_MAGIC, seq, len(payload)) + payload
        record = body + struct.pack(">I", crc32(body) & 0xFFFFFFFF)
        target = "b" if self.slot == "a" else "a"
        fname = self.name + "." + target
        self.fs.write(fname, record)
        if self.fs.read(fname) != record:  # verify before the new slot counts
            raise StorageError("%s: slot %s did not read back as written" % (self.name, target))
        self.seq, self.slot = seq, target


def frame_record(payload, seq=None, into=None):
    """magic | length u16 | payload | CRC-32 of length and payload, built in one buffer (a log
    append is in the tick of every event and command: few allocations). With `seq`, the payload
    is that number (u32) followed by `payload` (a packet store's record); with `into`, a buffer
    that is large enough, the record is built there and a memoryview of it returned."""
    k = 0 if seq is None else 4
    n = len(payload) + k
    if n > _MAX_RECORD:
        raise StorageError("record of %d bytes exceeds %d" % (n, _MAX_RECORD))
    rec = into if into is not None and len(into) >= n + 8 else bytearray(n + 8)
    rec[0] = _LOG_MAGIC[0]
    rec[1] = _LOG_MAGIC[1]
    rec[2] = n >> 8
    rec[3] = n & 0xFF
    if k:
        struct.pack_into(">I", rec, 4, seq)
    rec[4 + k : 4 + n] = payload
    mv = memoryview(rec)
    struct.pack_into(">I", rec, 4 + n, crc32(mv[2 : 4 + n]) & 0xFFFFFFFF)
    return rec if rec is not into else mv[: n + 8]


def scan_records(raw):
    """(records, skipped bytes) of a log file: every intact record, garbage and torn tails skipped."""
    out = []
    skipped = 0
    i = 0
    n = len(raw)
    while i < n:
        if raw[i : i + 2] == _LOG_MAGIC and i + 4 <= n:
            length = (raw[i + 2] << 8) | raw[i + 3]
            end = i + 4 + length + 4
            if length <= _MAX_RECORD and end <= n:
                if struct.unpack_from(">I", raw, end - 4)[0] == crc32(raw[i + 2 : end - 4]) & 0xFFFFFFFF:
                    out.append(bytes(raw[i + 4 : end - 4]))
                    i = end
                    continue
        skipped += 1
        i += 1
    return out, skipped


def record_at(fs, name, offset, end):
    """(payload, offset after it) of the first intact record at or after `offset` in file `name`
    (of `end` bytes), read a record at a time (bounded RAM, for a store of any size); torn or
    corrupt bytes are skipped up to the next magic. None when no intact record is left."""
    while end - offset >= 8:
        head = fs.read_at(name, offset, 4)
        if head[:2] == _LOG_MAGIC:
            n = (head[2] << 8) | head[3]
            if n <= _MAX_RECORD and offset + n + 8 <= end:
                rec = fs.read_at(name, offset + 2, n + 6)  # length, payload, CRC-32
                if (
                    len(rec) == n + 6
                    and struct.unpack_from(">I", rec, n + 2)[0]
                    == crc32(memoryview(rec)[: n + 2]) & 0xFFFFFFFF
                ):
                    return rec[2 : n + 2], offset + n + 8
        window = fs.read_at(name, offset + 1, 64)
        if not window:
            return None
        k = window.find(_LOG_MAGIC[:1])
        offset += 1 + (k if k >= 0 else len(window))
    return None


class RecordLog:
    """Append-only records in two segments of at most `segment_bytes` each."""

    def __init__(self, fs, name, segment_bytes=16384):
        self.fs = fs
        self.name = name
        self.segment_bytes = segment_bytes
        self.skipped = 0  # bytes of torn or corrupt records found by the last read
        self._cur = name + ".0"
        self._size = None  # bytes in the current segment, once read (this log is its only writer)

    def append(self, payload):
        rec = frame_record(payload)
        cur = self._cur
        size = self._size
        if size is None:
            size = self.fs.size(cur)
        self._size = None  # unknown until the writes are through (a failed one asks the fs again)
        if size + len(rec) > self.segment_bytes:
            # rotate: a cut between remove and rename leaves .0 complete; after it, .1 is complete
            self.fs.remove(self.name + ".1")
            self.fs.rename(cur, self.name + ".1")
            size = 0
        self.fs.append(cur, rec)
        self._size = size + len(rec)

    def records(self):
        """Every intact record, oldest first (previous segment, then current)."""
        out = []
        self.skipped = 0
        for seg in (".1", ".0"):
            raw = self.fs.read(self.name + seg)
            if raw:
                recs, skipped = scan_records(raw)
                out.extend(recs)
                self.skipped += skipped
        return out
