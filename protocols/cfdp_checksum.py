"""CFDP file checksums (CCSDS 727.0-B-5 annex F and the SANA checksum registry), fed segment by
segment at their file offsets, in any order.

  MODULAR (0)  the file as 4-byte big-endian words aligned on file offset 0 (the last one
               padded with zeros), summed mod 2^32: a byte at offset o adds b << 8*(3 - o % 4)
  CRC32C  (2)  CRC-32C (Castagnoli, reflected poly 0x82F63B78), pure Python
  CRC32   (3)  CRC-32 (IEEE 802.3, zlib's), binascii.crc32 where it exists
  NULL    (15) always 0
CRC-32 Proximity-1 (type 1) is refused (ArgumentError): no mission of ours uses it.

The CRCs are order-dependent, so each contiguous run of received data keeps its own CRC and
runs are joined as segments fill the gaps between them (zlib's crc32_combine: multiply by
x^(8n) mod P). Bytes already received are skipped, so a retransmitted or overlapping segment
counts once. value() reads gaps, and the file past the data up to `file_size`, as zeros: the
checksum of the file as a receiver's filestore holds it.
"""

from protocols.cfdp_lean import CRC32, MODULAR, modular  # one copy, the board codec's
from protocols.cfdp_lean import NULL_CHECKSUM as NULL
from protocols.errors import ArgumentError

CRC32_PROXIMITY1 = 1
CRC32C = 2

_POLY = {CRC32: 0xEDB88320, CRC32C: 0x82F63B78}
_TABLES = {}
_X2N = {}


def _table(poly):
    table = _TABLES.get(poly)
    if table is None:
        from array import array

        table = array("I", bytes(1024))
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ poly if c & 1 else c >> 1
            table[i] = c
        _TABLES[poly] = table
    return table


def crc32_py(data, crc=0, poly=_POLY[CRC32]):
    """The reflected CRC-32 of data continuing from crc (zlib's convention), for any poly."""
    table = _table(poly)
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _mult(a, b, poly):
    """a * b mod poly, reflected (bit 31 is x^0)."""
    m = 0x80000000
    p = 0
    while m:
        if a & m:
            p ^= b
        m >>= 1
        b = (b >> 1) ^ poly if b & 1 else b >> 1
    return p


def _x8n(n, poly):
    """x^(8n) mod poly."""
    table = _X2N.get(poly)
    if table is None:
        table = [0x40000000]  # x^1, then x^2, x^4, ...
        for _ in range(63):
            table.append(_mult(table[-1], table[-1], poly))
        _X2N[poly] = table
    p = 0x80000000  # x^0
    k = 3
    while n:
        if n & 1:
            p = _mult(table[k], p, poly)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1, crc2, len2, poly=_POLY[CRC32]):
    """CRC of A + B from crc1 = CRC(A), crc2 = CRC(B) and len2 = len(B)."""
    return _mult(_x8n(len2, poly), crc1, poly) ^ crc2


def crc32_zeros(n, poly=_POLY[CRC32]):
    """CRC of n zero bytes."""
    return _mult(_x8n(n, poly), 0xFFFFFFFF, poly) ^ 0xFFFFFFFF


class FileChecksum:
    """A file checksum of `kind` (MODULAR, CRC32, CRC32C or NULL) fed with update(offset, data)."""

    def __init__(self, kind=MODULAR):
        if kind not in (MODULAR, CRC32, CRC32C, NULL):
            raise ArgumentError("cfdp.checksum.kind", kind, "0 (modular), 2 (CRC-32C), 3 (CRC-32) or 15")
        self.kind = kind
        self._fast = None  # binascii.crc32 for CRC-32 where the port has it, else the table below
        if kind == CRC32:  # imported only then: on some ports binascii is a Python module
            try:
                import binascii

                self._fast = binascii.crc32
            except (ImportError, AttributeError):
                pass
        self._sum = 0
        self._runs = []  # sorted, disjoint, non-adjacent [start, end, crc of the run]

    def spans(self):
        """[(start, end)] of the file offsets received so far, sorted."""
        return [(r[0], r[1]) for r in self._runs]

    def update(self, offset, data):
        """Add a segment at a file offset; bytes already counted are skipped."""
        if type(offset) is not int or offset < 0:
            raise ArgumentError("cfdp.checksum.offset", offset, "an int >= 0")
        end = offset + len(data)
        pieces = []
        pos = offset
        for start, stop, _ in self._runs:
            if stop <= pos:
                continue
            if start >= end:
                break
            if start > pos:
                pieces.append((pos, start))
            pos = stop
            if pos >= end:
                break
        if pos < end:
            pieces.append((pos, end))
        mv = memoryview(data)
        for start, stop in pieces:
            self._add(start, mv[start - offset : stop - offset])

    def _add(self, start, piece):
        kind = self.kind
        stop = start + len(piece)
        if kind == MODULAR:
            self._sum = (self._sum + modular(start, piece)) & 0xFFFFFFFF
            crc = 0
        elif self._fast is not None:
            crc = self._fast(piece)
        elif kind == NULL:
            crc = 0
        else:
            crc = crc32_py(piece, 0, _POLY[kind])
        runs = self._runs
        i = 0
        while i < len(runs) and runs[i][1] < start:
            i += 1
        if i < len(runs) and runs[i][1] == start:  # extends the run before it
            run = runs[i]
            run[2] = self._join(run[2], crc, stop - start)
            run[1] = stop
        else:
            runs.insert(i, [start, stop, crc])
        run = runs[i]
        if i + 1 < len(runs) and runs[i + 1][0] == stop:  # and reaches the run after it
            nxt = runs.pop(i + 1)
            run[2] = self._join(run[2], nxt[2], nxt[1] - nxt[0])
            run[1] = nxt[1]

    def _join(self, crc1, crc2, len2):
        if self.kind in _POLY:
            return crc32_combine(crc1, crc2, len2, _POLY[self.kind])
        return 0

    def value(self, file_size=0):
        """The checksum of the file (gaps and the rest up to file_size read as zeros)."""
        kind = self.kind
        if kind == MODULAR:
            return self._sum
        if kind == NULL:
            return 0
        poly = _POLY[kind]
        acc = 0
        pos = 0
        for start, stop, crc in self._runs:
            if start > pos:
                acc = crc32_combine(acc, crc32_zeros(start - pos, poly), start - pos, poly)
            acc = crc32_combine(acc, crc, stop - start, poly)
            pos = stop
        if file_size > pos:
            acc = crc32_combine(acc, crc32_zeros(file_size - pos, poly), file_size - pos, poly)
        return acc
