"""CCSDS 132.0-B, the ground's half: the decoded frame and frame parsing, and a frame packed around
a whole data field (pack_into, pack; the packet extractor is protocols/tm_extractor.py).

A spacecraft builds its frames with protocols.tmframe's framer and never parses TM frames, so a
board never loads this module; tmframe.TmFrame, unpack, pack_into, RxClcw and clcw_unpack reach it
too."""

import struct

from protocols import spacepacket as sp
from protocols.crc import crc16
from protocols.errors import CrcError, EncodeError, FieldValueError, LengthError, TruncatedError, VersionError
from protocols.tmframe import (
    FECF_LEN,
    HEADER_LEN,
    MAX_FRAME_LEN,
    OCF_LEN,
    SEG_LEN_ID,
    Clcw,
    TmFramer,
    build_into,
    data_field_len,
    data_offset,
)


def pack_into(
    buf,
    scid,
    vcid,
    mc_count,
    vc_count,
    fhp,
    data,
    ocf=None,
    has_fecf=True,
    sec_hdr=None,
    sync_flag=0,
    packet_order=0,
):
    """Write a frame of len(buf) bytes; data must fill the data field exactly."""
    sec_len = 0 if sec_hdr is None else len(sec_hdr)
    dlen = data_field_len(len(buf), ocf is not None, has_fecf, sec_len)
    if len(data) != dlen:
        raise EncodeError("tmframe.data", "data field holds %d bytes, got %d" % (dlen, len(data)))
    start = data_offset(sec_hdr)
    buf[start : start + dlen] = data
    return build_into(
        buf, scid, vcid, mc_count, vc_count, fhp, ocf, has_fecf, sec_hdr, sync_flag, packet_order
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
