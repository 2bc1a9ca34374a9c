"""The ground's half of protocols.spacepacket: the SpacePacket object, and scanning and splitting
streams of concatenated space packets (batches and streams from recorded or received data).

A board packs and parses single headers only and never loads this module; the names stay
reachable as protocols.spacepacket.<name>."""

from protocols._accel import BUFFER, native, readable, span
from protocols.errors import ArgumentError, EncodeError, LengthError, OversizedError, TruncatedError
from protocols.spacepacket import (
    APID_IDLE,
    HEADER_LEN,
    MAX_DATA_LEN,
    MAX_STREAM_LEN,
    SEQ_UNSEGMENTED,
    TM,
    pack_header_into,
    unpack_header,
)

try:  # CPython only: MicroPython may ship an `operator` module, but its bytes have no __getitem__
    from operator import add as _add

    bytes.__getitem__  # noqa: B018
except (ImportError, AttributeError):
    _add = None


class SpacePacket:
    """One space packet: header fields and the data field (secondary header + user data)."""

    def __init__(self, ptype, apid, data, seq_count=0, seq_flags=SEQ_UNSEGMENTED, sec_hdr=False):
        self.ptype = ptype
        self.apid = apid
        self.data = data
        self.seq_count = seq_count
        self.seq_flags = seq_flags
        self.sec_hdr = sec_hdr

    def __eq__(self, other):
        return (
            isinstance(other, SpacePacket)
            and self.ptype == other.ptype
            and self.apid == other.apid
            and bytes(self.data) == bytes(other.data)
            and self.seq_count == other.seq_count
            and self.seq_flags == other.seq_flags
            and bool(self.sec_hdr) == bool(other.sec_hdr)
        )

    def __repr__(self):
        return "SpacePacket(type=%d, apid=0x%03X, seq=%d, flags=%d, sec_hdr=%d, %d data bytes)" % (
            self.ptype,
            self.apid,
            self.seq_count,
            self.seq_flags,
            self.sec_hdr,
            len(self.data),
        )

    def __len__(self):
        return HEADER_LEN + len(self.data)

    def pack_into(self, buf, offset=0):
        """Write the packet at buf[offset:]; returns the number of bytes written."""
        n = len(self.data)
        if len(buf) - offset < HEADER_LEN + n:
            raise EncodeError(
                "spacepacket.buffer", "needs %d bytes, has %d" % (HEADER_LEN + n, len(buf) - offset)
            )
        pack_header_into(buf, offset, self.ptype, self.sec_hdr, self.apid, self.seq_flags, self.seq_count, n)
        buf[offset + HEADER_LEN : offset + HEADER_LEN + n] = self.data
        return HEADER_LEN + n

    def pack(self):
        buf = bytearray(HEADER_LEN + len(self.data))
        self.pack_into(buf)
        return bytes(buf)

    @classmethod
    def unpack(cls, data, offset=0, exact=True):
        """Packet at data[offset:]. With exact=True, bytes after the packet are an error."""
        hdr = unpack_header(data, offset)
        dlen = hdr.data_len
        end = offset + HEADER_LEN + dlen
        if end > len(data):
            raise TruncatedError(
                "spacepacket.data", offset + HEADER_LEN, dlen, len(data) - offset - HEADER_LEN
            )
        if exact and end != len(data):
            raise OversizedError("spacepacket", offset, HEADER_LEN + dlen, len(data) - offset)
        return cls(
            hdr.ptype,
            hdr.apid,
            bytes(data[offset + HEADER_LEN : end]),
            hdr.seq_count,
            hdr.seq_flags,
            hdr.sec_hdr,
        )


def idle_packet(data_len, seq_count=0, fill=0x00):
    """An idle packet (APID 0x7FF) whose data field holds `data_len` fill bytes."""
    return SpacePacket(TM, APID_IDLE, bytes([fill]) * data_len, seq_count)


def _check_max_len(max_len):
    if type(max_len) is not int or max_len < HEADER_LEN + 1:
        raise ArgumentError("spacepacket.max_len", max_len, "an int >= 7 (one whole packet)")


def scan_packets_py(buf, start=0, end=None):
    """Walk concatenated packets in buf[start:end].

    Returns (packets, next_offset, skipped): (offset, total_length) of each complete packet
    with version 0; a header with other version bits makes the scan skip one byte and retry.
    It stops at the first incomplete packet or header; resume at next_offset.
    buf: bytes, bytearray or memoryview of at most MAX_STREAM_LEN bytes; start, end: ints
    (end None: len(buf)) clamped to 0..len(buf), a negative one counting as 0.
    """
    if not readable(buf):
        raise ArgumentError("spacepacket.buf", buf, BUFFER)
    if type(start) is not int:
        raise ArgumentError("spacepacket.start", start, "an int")
    if end is not None and type(end) is not int:
        raise ArgumentError("spacepacket.end", end, "None or an int")
    n = len(buf)
    if n > MAX_STREAM_LEN:
        raise LengthError("spacepacket.stream", 0, MAX_STREAM_LEN, n)
    start, end = span(n, start, end)
    packets = []
    skipped = 0
    pos = start
    while end - pos >= HEADER_LEN:
        if buf[pos] & 0xE0:
            pos += 1
            skipped += 1
            continue
        total = ((buf[pos + 4] << 8) | buf[pos + 5]) + 1 + HEADER_LEN
        if end - pos < total:
            break
        packets.append((pos, total))
        pos += total
    return packets, pos, skipped


scan_packets = native.scan_packets if native is not None else scan_packets_py


def split_packets_py(buf, start=0, max_len=MAX_DATA_LEN + HEADER_LEN):
    """Like scan_packets but returns the packets as bytes; stops before a packet over max_len.

    Returns (packets, next_offset, skipped, oversized): `oversized` is True when the scan
    stopped at a header declaring more than max_len bytes (at next_offset).
    """
    found, nxt, skipped = scan_packets_py(buf, start)
    _check_max_len(max_len)
    out = []
    for off, total in found:
        if total > max_len:
            return out, off, skipped, True
        out.append(bytes(buf[off : off + total]))
    if len(buf) - nxt >= HEADER_LEN and ((buf[nxt + 4] << 8) | buf[nxt + 5]) + 1 + HEADER_LEN > max_len:
        return out, nxt, skipped, True
    return out, nxt, skipped, False


split_packets = native.split_packets if native is not None else split_packets_py


def scan_arrays_py(buf, start=0, max_len=MAX_DATA_LEN + HEADER_LEN):
    """(offsets, lengths, next_offset, skipped, oversized) of the complete packets from start."""
    found, nxt, skipped = scan_packets_py(buf, start)
    _check_max_len(max_len)
    offs = []
    lens = []
    for off, total in found:
        if total > max_len:
            return offs, lens, off, skipped, True
        offs.append(off)
        lens.append(total)
    if len(buf) - nxt >= HEADER_LEN and ((buf[nxt + 4] << 8) | buf[nxt + 5]) + 1 + HEADER_LEN > max_len:
        return offs, lens, nxt, skipped, True
    return offs, lens, nxt, skipped, False


scan_arrays = native.scan_arrays if native is not None else scan_arrays_py


class PacketBatch:
    """The packets found in one buffer as (offset, length) pairs over that buffer: no copies.

    Index or iterate to get bytes; `apid(i)` and `packet_view(i)` read in place. This is
    what a ground archive or a router wants for bulk downlink: decide per packet without
    materialising every one.
    """

    def __init__(self, data, offsets, lengths):
        self.data = data
        self.offsets = offsets
        self.lengths = lengths

    def __len__(self):
        return len(self.offsets)

    def __getitem__(self, i):
        off = self.offsets[i]
        return bytes(self.data[off : off + self.lengths[i]])

    def __iter__(self):
        for i in range(len(self.offsets)):
            yield self[i]

    def to_list(self):
        """Every packet as bytes (data is always bytes, so a slice is the copy)."""
        data = self.data
        offs = self.offsets
        if _add is not None:  # CPython: slicing driven from C, no Python loop per packet
            return list(map(data.__getitem__, map(slice, offs, map(_add, offs, self.lengths))))
        lens = self.lengths
        return [data[offs[i] : offs[i] + lens[i]] for i in range(len(offs))]

    def packet_view(self, i):
        off = self.offsets[i]
        return memoryview(self.data)[off : off + self.lengths[i]]

    def apid(self, i):
        off = self.offsets[i]
        return ((self.data[off] << 8) | self.data[off + 1]) & 0x7FF


class PacketStream:
    """Re-assembles space packets from a byte stream arriving in arbitrary chunks.

    Bytes that cannot start a packet (wrong version) are skipped one at a time and
    counted; a declared length above `max_packet_len` is treated as a corrupt header
    (counted in `oversized`, one byte skipped) so one bad length cannot stall the stream.
    The buffer never holds more than `max_packet_len` + one chunk.
    """

    def __init__(self, max_packet_len=4096 + HEADER_LEN):
        _check_max_len(max_packet_len)
        self.max_packet_len = max_packet_len
        self._buf = b""
        self.packets = 0
        self.skipped = 0
        self.oversized = 0

    def feed(self, chunk):
        """Add bytes; return the list of whole packets (bytes) they completed."""
        return self.feed_batch(chunk).to_list()

    def feed_batch(self, chunk):
        """Add bytes; return the completed packets as a PacketBatch (zero-copy views)."""
        # immutable bytes into an empty parser are used as they are, without copying
        data = chunk if not self._buf and isinstance(chunk, bytes) else bytes(self._buf + chunk)
        pos = 0
        offs_all = None
        while True:
            offs, lens, pos, skipped, oversized = scan_arrays(data, pos, self.max_packet_len)
            self.skipped += skipped
            if offs_all is None:
                offs_all, lens_all = offs, lens
            elif len(offs):
                offs_all = list(offs_all) + list(offs)
                lens_all = list(lens_all) + list(lens)
            if not oversized:
                break
            # a length beyond the limit can only be a corrupt header: skip one byte and rescan
            self.oversized += 1
            self.skipped += 1
            pos += 1
        self.packets += len(offs_all)
        self._buf = bytearray(data[pos:])
        return PacketBatch(data, offs_all, lens_all)

    @property
    def pending(self):
        """Bytes held while waiting for the rest of a packet."""
        return len(self._buf)
