"""CCSDS 132.0-B receive side: the decoded frame, frame parsing and the packet extractor (the
ground's half).

A spacecraft builds frames (protocols.tmframe) and never parses TM frames, so a board never
loads this module; tmframe.TmFrame, unpack, PacketExtractor, RxClcw and clcw_unpack reach it too."""

import struct

from protocols import spacepacket as sp
from protocols.crc import crc16
from protocols.errors import CrcError, FieldValueError, LengthError, TruncatedError, VersionError
from protocols.tmframe import (
    FECF_LEN,
    FHP_IDLE,
    FHP_NO_PACKET_START,
    HEADER_LEN,
    MAX_FRAME_LEN,
    OCF_LEN,
    SEG_LEN_ID,
    Clcw,
    TmFramer,
    pack_into,
)


class RxClcw(Clcw):
    """A CLCW as the ground handles it: compared, printed, packed on its own."""

    def __eq__(self, other):
        return isinstance(other, Clcw) and self.word() == other.word()

    def __repr__(self):
        return "Clcw(vc=%d, N(R)=%d, lockout=%d, wait=%d, retransmit=%d, b=%d, no_rf=%d, no_lock=%d)" % (
            self.vcid,
            self.report_value,
            self.lockout,
            self.wait,
            self.retransmit,
            self.farm_b_counter,
            self.no_rf,
            self.no_bitlock,
        )

    def pack(self):
        return struct.pack(">I", self.word())


def clcw_unpack(data, offset=0):
    """The CLCW in 4 bytes of an OCF (an RxClcw)."""
    if len(data) - offset < OCF_LEN:
        raise TruncatedError("clcw", offset, OCF_LEN, max(0, len(data) - offset))
    word = struct.unpack_from(">I", data, offset)[0]
    if word >> 31:
        raise FieldValueError("clcw.type", offset, "control word type 1 is not a CLCW")
    if (word >> 29) & 3:
        raise VersionError("clcw.version", offset, 0, (word >> 29) & 3)
    return RxClcw(
        (word >> 18) & 63,
        word & 0xFF,
        bool(word >> 13 & 1),
        bool(word >> 12 & 1),
        bool(word >> 11 & 1),
        (word >> 9) & 3,
        bool(word >> 15 & 1),
        bool(word >> 14 & 1),
        (word >> 26) & 7,
        (word >> 24) & 3,
    )


class TmFrame:
    """A decoded TM transfer frame.

    `sec_hdr` is the secondary header flag, `sec_header` the secondary header's data
    (without its ID octet) or None; `ocf` the 4 raw OCF bytes or None.
    """

    def __init__(
        self,
        scid,
        vcid,
        mc_count,
        vc_count,
        fhp,
        data,
        ocf=None,
        sync_flag=0,
        sec_hdr=0,
        packet_order=0,
        seg_len_id=SEG_LEN_ID,
        sec_header=None,
    ):
        self.scid = scid
        self.vcid = vcid
        self.mc_count = mc_count
        self.vc_count = vc_count
        self.fhp = fhp
        self.data = data
        self.ocf = ocf
        self.sync_flag = sync_flag
        self.sec_hdr = sec_hdr
        self.packet_order = packet_order
        self.seg_len_id = seg_len_id
        self.sec_header = sec_header

    def __repr__(self):
        return "TmFrame(scid=%d vc=%d mc=%d vcc=%d fhp=0x%03X %d bytes%s)" % (
            self.scid,
            self.vcid,
            self.mc_count,
            self.vc_count,
            self.fhp,
            len(self.data),
            " +OCF" if self.ocf is not None else "",
        )

    def clcw(self):
        """The CLCW carried in the OCF, or None when the frame has no OCF."""
        return None if self.ocf is None else clcw_unpack(self.ocf)

    def pack(self, has_fecf=True):
        """The frame's bytes again (length follows from the fields present)."""
        n = HEADER_LEN + len(self.data) + (OCF_LEN if self.ocf is not None else 0)
        n += (FECF_LEN if has_fecf else 0) + (0 if self.sec_header is None else 1 + len(self.sec_header))
        buf = bytearray(n)
        pack_into(
            buf,
            self.scid,
            self.vcid,
            self.mc_count,
            self.vc_count,
            self.fhp,
            self.data,
            self.ocf,
            has_fecf,
            self.sec_header,
            self.sync_flag,
            self.packet_order,
        )
        return bytes(buf)


def unpack(raw, has_fecf=True, frame_len=None, copy=True):
    """Parse and check a frame (length, FECF, version, field layout); returns a TmFrame.

    The FECF is checked first: any corruption, header included, is a CrcError. With
    copy=False the data field is a memoryview into raw.
    """
    n = len(raw)
    if frame_len is not None and n != frame_len:
        raise LengthError("tmframe", 0, frame_len, n)
    minimum = HEADER_LEN + (FECF_LEN if has_fecf else 0) + 1
    if n < minimum:
        raise TruncatedError("tmframe.header", 0, minimum, n)
    if n > MAX_FRAME_LEN:
        raise LengthError("tmframe", 0, MAX_FRAME_LEN, n)
    end = n
    if has_fecf:
        got = (raw[n - 2] << 8) | raw[n - 1]
        want = crc16(memoryview(raw)[: n - 2])
        if got != want:
            raise CrcError("tmframe.fecf", n - 2, want, got)
        end -= FECF_LEN
    w0, mc, vc, status = struct.unpack_from(">HBBH", raw, 0)
    if w0 >> 14:
        raise VersionError("tmframe.version", 0, 0, w0 >> 14)
    ocf = None
    if w0 & 1:
        if end - HEADER_LEN < OCF_LEN + 1:
            raise TruncatedError("tmframe.ocf", HEADER_LEN, OCF_LEN + 1, end - HEADER_LEN)
        ocf = bytes(raw[end - OCF_LEN : end])
        end -= OCF_LEN
    sync_flag = (status >> 14) & 1
    seg_len_id = (status >> 11) & 3
    if not sync_flag and seg_len_id != SEG_LEN_ID:
        raise FieldValueError("tmframe.segment_length_id", 4, "must be 11 when the sync flag is 0")
    start = HEADER_LEN
    sec_header = None
    if status >> 15:
        ident = raw[HEADER_LEN]
        if ident >> 6:
            raise VersionError("tmframe.secondary_header.version", HEADER_LEN, 0, ident >> 6)
        sec_len = ident & 0x3F
        # the secondary header must leave at least one data field byte
        if HEADER_LEN + 1 + sec_len >= end:
            raise LengthError("tmframe.secondary_header", HEADER_LEN, end - HEADER_LEN - 2, sec_len)
        sec_header = bytes(raw[HEADER_LEN + 1 : HEADER_LEN + 1 + sec_len])
        start = HEADER_LEN + 1 + sec_len
    data = bytes(raw[start:end]) if copy else memoryview(raw)[start:end]
    return TmFrame(
        (w0 >> 4) & 0x3FF,
        (w0 >> 1) & 7,
        mc,
        vc,
        status & 0x7FF,
        data,
        ocf,
        sync_flag,
        status >> 15,
        (status >> 13) & 1,
        seg_len_id,
        sec_header,
    )


class PacketExtractor:
    """Rebuilds space packets from the frames of one virtual channel (CCSDS 132.0-B packet service).

    The first header pointer of every frame is checked against where the running packet
    ends; a mismatch drops the partial packet and restarts at the FHP. A gap in the VC frame
    count means frames were lost: they are counted (`lost_frames`), the partial packet is
    dropped (`dropped_partials`) and extraction resumes at the next frame's FHP. Gaps in
    the master channel count (all VCs) are counted in `mc_lost`. Idle packets (APID 0x7FF)
    and OID frames are skipped. Packets longer than max_packet_len count as `oversized`
    and force a resync, so the buffer is allocated once.
    """

    def __init__(self, max_packet_len=4096 + sp.HEADER_LEN, vcid=None):
        if max_packet_len < sp.HEADER_LEN + 1:
            max_packet_len = sp.HEADER_LEN + 1
        self.max_packet_len = max_packet_len
        self.vcid = vcid  # None: take every frame fed
        self._buf = bytearray(max_packet_len)
        self._len = 0  # bytes of the running packet held
        self._total = 0  # its total length once its header is complete (0 before)
        self._synced = False
        self._next_vc = None
        self._next_mc = None
        self.frames = 0
        self.packets = 0
        self.idle_packets = 0
        self.idle_frames = 0
        self.lost_frames = 0
        self.mc_lost = 0
        self.dropped_partials = 0
        self.fhp_mismatches = 0
        self.bad_headers = 0
        self.oversized = 0
        self.other_vc = 0
        self.skipped_frames = 0

    def reset(self):
        """Forget the running packet and the frame counters (e.g. after a link outage)."""
        self._desync()
        self._next_vc = None
        self._next_mc = None

    def _desync(self):
        if self._len:
            self.dropped_partials += 1
        self._len = 0
        self._total = 0
        self._synced = False

    def _header(self, data, pos, n):
        """Copy header bytes of the running packet from data[pos:]; returns the new pos.

        Sets _total when the header is complete; a bad header desyncs (returns -1).
        """
        take = sp.HEADER_LEN - self._len
        if take > n - pos:
            take = n - pos
        if take > 0:
            self._buf[self._len : self._len + take] = data[pos : pos + take]
            self._len += take
            pos += take
        if self._len < sp.HEADER_LEN:
            return pos
        buf = self._buf
        if buf[0] & 0xE0:
            self.bad_headers += 1
            self._len = 0  # counted here, not as a dropped partial packet
            self._desync()
            return -1
        total = ((buf[4] << 8) | buf[5]) + 7
        if total > self.max_packet_len:
            self.oversized += 1
            self._len = 0
            self._desync()
            return -1
        self._total = total
        return pos

    def _body(self, data, pos, n, out):
        """Copy the rest of the running packet; returns the new pos."""
        take = self._total - self._len
        if take > n - pos:
            take = n - pos
        self._buf[self._len : self._len + take] = data[pos : pos + take]
        self._len += take
        pos += take
        if self._len == self._total:
            buf = self._buf
            if ((buf[0] << 8) | buf[1]) & 0x7FF == sp.APID_IDLE:
                self.idle_packets += 1
            else:
                out.append(bytes(buf[: self._total]))
                self.packets += 1
            self._len = 0
            self._total = 0
        return pos

    def _mismatch(self, fhp):
        """The FHP disagrees with the running packet: drop it, restart at the FHP."""
        self.fhp_mismatches += 1
        self._desync()
        if fhp == FHP_NO_PACKET_START:
            return -1
        self._synced = True
        return fhp

    def feed(self, frame):
        """Take one TmFrame; return the list of complete packets (bytes) it finished."""
        mc = frame.mc_count
        if self._next_mc is not None and mc != self._next_mc:
            self.mc_lost += (mc - self._next_mc) & 0xFF
        self._next_mc = (mc + 1) & 0xFF
        if self.vcid is not None and frame.vcid != self.vcid:
            self.other_vc += 1
            return []
        self.frames += 1
        vc = frame.vc_count
        if self._next_vc is not None and vc != self._next_vc:
            self.lost_frames += (vc - self._next_vc) & 0xFF
            self._desync()
        self._next_vc = (vc + 1) & 0xFF
        if frame.sync_flag:  # VCA data, not packets
            self.skipped_frames += 1
            return []
        fhp = frame.fhp
        if fhp == FHP_IDLE:
            self.idle_frames += 1
            return []
        data = memoryview(frame.data)
        n = len(data)
        out = []
        if fhp != FHP_NO_PACKET_START and fhp >= n:
            self.fhp_mismatches += 1
            self._desync()
            return out
        pos = 0
        if not self._synced:
            if fhp == FHP_NO_PACKET_START:
                self.skipped_frames += 1
                return out
            self._synced = True
            pos = fhp
        elif self._len:
            # finish the running packet; it must end exactly where the FHP says the next begins
            pos = self._header(data, 0, n)
            if pos < 0:
                pos = -1 if fhp == FHP_NO_PACKET_START else fhp
                if pos >= 0:
                    self._synced = True
            elif not self._total:  # the header itself goes on into the next frame
                if fhp != FHP_NO_PACKET_START:
                    pos = self._mismatch(fhp)
                else:
                    return out
            else:
                end = pos + self._total - self._len
                if fhp != (end if end < n else FHP_NO_PACKET_START):
                    pos = self._mismatch(fhp)
                else:
                    pos = self._body(data, pos, n, out)
        elif fhp != 0:  # the previous frame ended on a packet boundary: one must start at 0
            pos = self._mismatch(fhp)
        while 0 <= pos < n:
            pos = self._header(data, pos, n)
            if pos < 0 or not self._total:
                break
            pos = self._body(data, pos, n, out)
        return out


def pack(frame_len, scid, vcid, mc_count, vc_count, fhp, data, ocf=None, has_fecf=True, sec_hdr=None):
    buf = bytearray(frame_len)
    pack_into(buf, scid, vcid, mc_count, vc_count, fhp, data, ocf, has_fecf, sec_hdr)
    return bytes(buf)


class TmFramerBytes(TmFramer):
    """A TmFramer that hands out whole frames as bytes (ground, tests, tools): `add_packet`
    returns the frames a packet completed, `flush` the rest."""

    _scratch = None

    def _frame_bytes(self, flush=False):
        if self._scratch is None:
            self._scratch = bytearray(self.frame_len)
        self.build_into(self._scratch, flush)
        return bytes(self._scratch)

    def add_packet(self, packet):
        """Queue one space packet (any length); returns the frames it completed (bytes)."""
        n = self._check_packet(packet)
        src = memoryview(packet)
        out = []
        pos = 0
        dlen = self.dlen
        while pos < n:
            room = self._cap - self._count
            # the header goes in whole, so the FHP walk can read its length field
            if room < (sp.HEADER_LEN if pos == 0 else 1):
                out.append(self._frame_bytes())
                continue
            take = n - pos if n - pos < room else room
            self._write(src, pos, pos + take)
            pos += take
            while self._count >= dlen:
                out.append(self._frame_bytes())
        self.packets += 1
        return out

    def flush(self):
        """Frame everything queued (idle packet fill), or one OID frame when nothing is."""
        if not self._count:
            return [self._frame_bytes(True)]
        out = []
        while self._count:
            out.append(self._frame_bytes(True))
        return out
