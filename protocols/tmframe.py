"""CCSDS 132.0-B TM Space Data Link Protocol: transfer frames, CLCW in the OCF, VC packet service.

Primary header (6 bytes, CCSDS 132.0-B section 4.1.2):
  version (2, 00) | SCID (10) | VCID (3) | OCF flag (1)
  | master channel frame count (8) | virtual channel frame count (8)
  | data field status (16): secondary header flag (1) | synchronization flag (1)
    | packet order flag (1) | segment length identifier (2, 11 when sync flag is 0)
    | first header pointer (11): offset in the data field of the first packet header that
      starts in this frame; 0x7FF when no packet starts here, 0x7FE when the frame holds
      only idle data (an "OID" frame).
Optional secondary header (4.1.3): version (2, 00) | length (6) = total octets - 1 | data.
Trailer: optional 4-byte operational control field (here a CLCW, protocols/cop1.py),
optional 2-byte frame error control field (CRC-16-CCITT over everything before it).

A mission fixes the frame length (e.g. 223*I bytes to fill an RS codeblock), so frames are
built into caller buffers of exactly that length: `build_into` writes the header and trailer
around a data field already in place, `TmFramer.build_into` fills the data field from its
packet queue (no allocation per frame).

Parsing frames (the ground's side: TmFrame, unpack, clcw_unpack) and the conveniences a board does
not need (pack, pack_into, TmFramerBytes, RxClcw) are protocols/tmframe_rx.py, which a board never loads;
those names here import it on first use. Extracting packets from parsed frames (PacketExtractor)
is protocols/tm_extractor.py, also ground-only.
"""

import struct

from protocols import spacepacket as sp
from protocols._lazy import forward
from protocols.cop1 import Clcw  # the OCF's CLCW: the FARM's report (COP-1, CCSDS 232.0-B 4.2)
from protocols.crc import crc16
from protocols.errors import EncodeError

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


HEADER_LEN = const(6)
OCF_LEN = const(4)
FECF_LEN = const(2)
MAX_FRAME_LEN = const(2048)
MAX_SEC_HDR_DATA = const(63)  # the 6-bit length field counts the ID octet too
FHP_NO_PACKET_START = const(0x7FF)
FHP_IDLE = const(0x7FE)
SEG_LEN_ID = const(3)  # "11": no segmentation (required when the sync flag is 0)

_FILL_BLOCK = const(64)  # idle fill is copied this many bytes at a time


def data_field_len(frame_len, has_ocf=True, has_fecf=True, sec_hdr_len=0):
    """Bytes of the data field in a frame of frame_len bytes.

    sec_hdr_len is the secondary header's data length (its ID octet is added here), 0 for none.
    """
    n = frame_len - HEADER_LEN - (OCF_LEN if has_ocf else 0) - (FECF_LEN if has_fecf else 0)
    if sec_hdr_len:
        n -= 1 + sec_hdr_len
    if n < 1 or frame_len > MAX_FRAME_LEN:
        raise EncodeError("tmframe.length", "frame length %d leaves no data field" % frame_len)
    return n


def data_offset(sec_hdr=None):
    """Offset of the data field: after the primary header and the secondary header, if any."""
    return HEADER_LEN if sec_hdr is None else HEADER_LEN + 1 + len(sec_hdr)


def build_into(
    buf,
    scid,
    vcid,
    mc_count,
    vc_count,
    fhp,
    ocf=None,
    has_fecf=True,
    sec_hdr=None,
    sync_flag=0,
    packet_order=0,
):
    """Write header, secondary header, OCF and FECF of a frame of len(buf) bytes.

    The data field must already be in buf[data_offset(sec_hdr):][:data_field_len(...)]:
    this only writes around it, so a caller can fill the data field in place.
    `ocf` is None, a Clcw or 4 bytes. Returns the frame length.
    """
    if not 0 <= scid <= 0x3FF or not 0 <= vcid <= 7 or not 0 <= fhp <= 0x7FF:
        raise EncodeError("tmframe.header", "scid/vcid/fhp out of range: %r/%r/%r" % (scid, vcid, fhp))
    n = len(buf)
    sec_len = 0
    if sec_hdr is not None:
        sec_len = len(sec_hdr)
        if not 1 <= sec_len <= MAX_SEC_HDR_DATA:
            raise EncodeError("tmframe.secondary_header", "holds 1..63 bytes, got %d" % sec_len)
    dlen = data_field_len(n, ocf is not None, has_fecf, sec_len)
    struct.pack_into(
        ">HBBH",
        buf,
        0,
        scid << 4 | vcid << 1 | (1 if ocf is not None else 0),
        mc_count & 0xFF,
        vc_count & 0xFF,
        (1 if sec_hdr is not None else 0) << 15
        | (1 if sync_flag else 0) << 14
        | (1 if packet_order else 0) << 13
        | SEG_LEN_ID << 11
        | fhp,
    )
    pos = HEADER_LEN
    if sec_hdr is not None:
        buf[pos] = sec_len  # version 00, length = total octets (ID + data) - 1
        buf[pos + 1 : pos + 1 + sec_len] = sec_hdr
        pos += 1 + sec_len
    pos += dlen
    if ocf is not None:
        if isinstance(ocf, Clcw):
            ocf.pack_into(buf, pos)
        else:
            if len(ocf) != OCF_LEN:
                raise EncodeError("tmframe.ocf", "the OCF holds 4 bytes, got %d" % len(ocf))
            buf[pos : pos + OCF_LEN] = ocf
        pos += OCF_LEN
    if has_fecf:
        c = crc16(memoryview(buf)[:pos])
        buf[pos] = c >> 8
        buf[pos + 1] = c & 0xFF
    return n


class MasterChannel:
    """The master channel frame counter, shared by the framers of all VCs on one link."""

    def __init__(self, mc_count=0):
        self.mc_count = mc_count

    def take(self):
        value = self.mc_count
        self.mc_count = (value + 1) & 0xFF
        return value


class TmFramer:
    """Virtual channel packet multiplexer: packs space packets into fixed-length frames.

    Packets go into a preallocated ring and are cut into data fields as frames are built,
    spanning frames as needed; the first header pointer (FHP) of each frame names the first
    packet header that starts in it (0x7FF if none does). Flushing completes a partial
    frame with an idle packet (APID 0x7FF); with nothing queued it builds an OID frame
    (FHP 0x7FE) so the downlink keeps its rhythm and carries a fresh CLCW.

    `push(packet)` then `build_into(buf, flush)` per frame into a caller buffer of frame_len
    bytes: no allocation per frame. (The ground's and the tests' `TmFramerBytes` adds
    `add_packet(packet)` / `flush()`, the completed frames as a list of bytes.)
    """

    def __init__(
        self,
        frame_len,
        scid,
        vcid=0,
        has_ocf=True,
        has_fecf=True,
        master=None,
        capacity=None,
        idle_byte=0x00,
        sec_hdr=None,
    ):
        if not 0 <= scid <= 0x3FF or not 0 <= vcid <= 7:
            raise EncodeError("tmframe.header", "scid/vcid out of range: %r/%r" % (scid, vcid))
        self.frame_len = frame_len
        self.scid = scid
        self.vcid = vcid
        self.has_ocf = has_ocf
        self.has_fecf = has_fecf
        self.sec_hdr = sec_hdr
        self.dlen = data_field_len(frame_len, has_ocf, has_fecf, 0 if sec_hdr is None else len(sec_hdr))
        self._ds = data_offset(sec_hdr)
        self.master = master if master is not None else MasterChannel()
        self.vc_count = 0
        self.clcw = Clcw() if has_ocf else None  # what the OCF carries: a Clcw or 4 bytes
        self.idle_byte = idle_byte
        self._fill_blk = bytearray(_FILL_BLOCK)
        for i in range(_FILL_BLOCK):
            self._fill_blk[i] = idle_byte
        # an idle packet may have to reach into the next frame (it needs 7 bytes), so the ring
        # holds two data fields plus a header's worth of slack for packets pushed in pieces
        cap = 2 * self.dlen + 8
        if capacity is not None and capacity > cap:
            cap = capacity
        self._ring = bytearray(cap)
        self._ring_mv = memoryview(self._ring)  # made once: on MicroPython each memoryview is a heap object
        self._cap = cap
        self._head = 0  # ring index of the first queued byte
        self._count = 0  # queued bytes
        self._boundary = 0  # distance from the head to the next packet start
        self._hdr = bytearray(sp.HEADER_LEN)
        self._hdr_mv = memoryview(self._hdr)
        self._idle_seq = 0
        self.frames = 0
        self.idle_frames = 0
        self.idle_packets = 0
        self.packets = 0

    @property
    def mc_count(self):
        return self.master.mc_count

    @property
    def pending(self):
        """Queued bytes not yet in a frame."""
        return self._count

    @property
    def free(self):
        """Bytes `push` can take now."""
        return self._cap - self._count

    def ready(self):
        """Number of full frames `build_into` can build without flushing."""
        return self._count // self.dlen

    # --- queue ------------------------------------------------------------------------------------

    def _check_packet(self, packet):
        n = len(packet)
        if n < sp.HEADER_LEN + 1 or packet[0] & 0xE0 or ((packet[4] << 8) | packet[5]) + 7 != n:
            raise EncodeError("tmframe.packet", "not a version-0 space packet whose length field fits")
        return n

    def _write(self, src, start, end):
        """Copy src[start:end] (memoryview) to the ring's tail."""
        n = end - start
        tail = (self._head + self._count) % self._cap
        first = self._cap - tail
        if first > n:
            first = n
        self._ring[tail : tail + first] = src[start : start + first]
        if first < n:
            self._ring[0 : n - first] = src[start + first : end]
        self._count += n

    def _fill_into(self, buf, start, n):
        """buf[start:start + n] = the idle byte, a block at a time: a byte per loop step took a
        board 24-35 ms per housekeeping frame at the RP2040's speed."""
        blk = self._fill_blk
        end = start + n
        while start + _FILL_BLOCK <= end:
            buf[start : start + _FILL_BLOCK] = blk
            start += _FILL_BLOCK
        if start < end:
            buf[start:end] = blk[: end - start]

    def _write_fill(self, n):
        tail = (self._head + self._count) % self._cap
        first = min(n, self._cap - tail)  # up to the end of the ring, then from its start
        self._fill_into(self._ring, tail, first)
        self._fill_into(self._ring, 0, n - first)
        self._count += n

    def push(self, packet):
        """Queue one whole space packet (copied); EncodeError when it does not fit in `free`."""
        n = self._check_packet(packet)
        if n > self._cap - self._count:
            raise EncodeError("tmframe.queue", "needs %d bytes, %d free" % (n, self._cap - self._count))
        self._write(memoryview(packet), 0, n)
        self.packets += 1

    def _packet_len_at(self, offset):
        cap = self._cap
        p = self._head + offset
        return ((self._ring[(p + 4) % cap] << 8) | self._ring[(p + 5) % cap]) + 7

    def _push_idle(self):
        room = self.dlen - self._count
        while room < sp.HEADER_LEN + 1:  # an idle packet needs 7 bytes: let it run into the next frame
            room += self.dlen
        sp.pack_header_into(
            self._hdr, 0, sp.TM, False, sp.APID_IDLE, sp.SEQ_UNSEGMENTED, self._idle_seq, room - sp.HEADER_LEN
        )
        self._idle_seq = (self._idle_seq + 1) & 0x3FFF
        self._write(self._hdr_mv, 0, sp.HEADER_LEN)
        self._write_fill(room - sp.HEADER_LEN)
        self.idle_packets += 1

    # --- frames -----------------------------------------------------------------------------------

    def _finish(self, buf, fhp):
        build_into(
            buf,
            self.scid,
            self.vcid,
            self.master.take(),
            self.vc_count,
            fhp,
            self.clcw if self.has_ocf else None,
            self.has_fecf,
            self.sec_hdr,
        )
        self.vc_count = (self.vc_count + 1) & 0xFF
        self.frames += 1

    def _data_frame_into(self, buf):
        dlen = self.dlen
        b = self._boundary
        fhp = b if b < dlen else FHP_NO_PACKET_START
        while b < dlen:
            b += self._packet_len_at(b)
        self._boundary = b - dlen
        ds = self._ds
        head = self._head
        first = self._cap - head
        if first > dlen:
            first = dlen
        ring = self._ring_mv
        buf[ds : ds + first] = ring[head : head + first]
        if first < dlen:
            buf[ds + first : ds + dlen] = ring[0 : dlen - first]
        self._head = (head + dlen) % self._cap
        self._count -= dlen
        self._finish(buf, fhp)

    def idle_frame_into(self, buf):
        """Build an OID frame (FHP 0x7FE, idle data) into buf; only between packets."""
        if self._count:
            raise EncodeError("tmframe.idle", "%d packet bytes are queued: flush them first" % self._count)
        if len(buf) != self.frame_len:
            raise EncodeError("tmframe.buffer", "needs %d bytes, got %d" % (self.frame_len, len(buf)))
        self._fill_into(buf, self._ds, self.dlen)
        self._finish(buf, FHP_IDLE)
        self.idle_frames += 1

    def build_into(self, buf, flush=False):
        """Build the next frame into buf (frame_len bytes). Returns False when nothing was built.

        Without flush only full data fields are framed. With flush a partial data field is
        completed with an idle packet, and an empty queue gives an OID frame.
        """
        if len(buf) != self.frame_len:
            raise EncodeError("tmframe.buffer", "needs %d bytes, got %d" % (self.frame_len, len(buf)))
        if self._count >= self.dlen:
            self._data_frame_into(buf)
            return True
        if not flush:
            return False
        if not self._count:
            self.idle_frame_into(buf)
            return True
        self._push_idle()
        self._data_frame_into(buf)
        return True


# the receive side, imported on first use
_RX = ("unpack", "TmFrame", "RxClcw", "clcw_unpack", "pack", "pack_into", "TmFramerBytes")
__getattr__ = forward("protocols.tmframe", "protocols.tmframe_rx", _RX)
