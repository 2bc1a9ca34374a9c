"""CCSDS 132.0-B TM transfer frames: header, OCF with CLCW, FECF, packet (de)multiplexing.

Primary header (6 bytes):
  version (2, 00) | SCID (10) | VCID (3) | OCF flag (1)
  | master channel frame count (8) | virtual channel frame count (8)
  | secondary header flag (1) | sync flag (1) | packet order flag (1) | segment length id (2, 11)
  | first header pointer (11): offset of the first packet header in the data field,
    0x7FF when no packet starts in this frame, 0x7FE when the frame carries only idle data.
Trailer: optional 4-byte operational control field (a CLCW here), optional 2-byte FECF (CRC-16).
"""

import struct

from protocols import spacepacket as sp
from protocols.crc import crc16
from protocols.errors import CrcError, EncodeError, FieldValueError, LengthError, TruncatedError, VersionError

HEADER_LEN = 6
FHP_NO_PACKET_START = 0x7FF
FHP_IDLE = 0x7FE


class Clcw:
    """Communications Link Control Word (CCSDS 232.0-B), reported by FARM-1 in the TM OCF."""

    def __init__(
        self,
        vcid=0,
        report_value=0,
        lockout=False,
        wait=False,
        retransmit=False,
        farm_b_counter=0,
        no_rf=False,
        no_bitlock=False,
        status=0,
        cop_in_effect=1,
    ):
        self.vcid = vcid
        self.report_value = report_value
        self.lockout = lockout
        self.wait = wait
        self.retransmit = retransmit
        self.farm_b_counter = farm_b_counter
        self.no_rf = no_rf
        self.no_bitlock = no_bitlock
        self.status = status
        self.cop_in_effect = cop_in_effect

    def __eq__(self, other):
        return isinstance(other, Clcw) and self.pack() == other.pack()

    def __repr__(self):
        return "Clcw(vc=%d, N(R)=%d, lockout=%d, wait=%d, retransmit=%d, b=%d)" % (
            self.vcid,
            self.report_value,
            self.lockout,
            self.wait,
            self.retransmit,
            self.farm_b_counter,
        )

    def pack(self):
        if not 0 <= self.vcid <= 63 or not 0 <= self.report_value <= 255 or not 0 <= self.farm_b_counter <= 3:
            raise EncodeError("clcw", "field out of range: %r" % (self,))
        word = (
            (self.status & 7) << 26
            | (self.cop_in_effect & 3) << 24
            | self.vcid << 18
            | (1 if self.no_rf else 0) << 15
            | (1 if self.no_bitlock else 0) << 14
            | (1 if self.lockout else 0) << 13
            | (1 if self.wait else 0) << 12
            | (1 if self.retransmit else 0) << 11
            | self.farm_b_counter << 9
            | self.report_value
        )
        return struct.pack(">I", word)

    @classmethod
    def unpack(cls, data, offset=0):
        if len(data) - offset < 4:
            raise TruncatedError("clcw", offset, 4, len(data) - offset)
        word = struct.unpack_from(">I", data, offset)[0]
        if word >> 31:
            raise FieldValueError("clcw.type", offset, "control word type 1 is not a CLCW")
        if (word >> 29) & 3:
            raise VersionError("clcw.version", offset, 0, (word >> 29) & 3)
        return cls(
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
    """A decoded TM transfer frame."""

    def __init__(self, scid, vcid, mc_count, vc_count, fhp, data, ocf=None, sync_flag=0, sec_hdr=0):
        self.scid = scid
        self.vcid = vcid
        self.mc_count = mc_count
        self.vc_count = vc_count
        self.fhp = fhp
        self.data = data
        self.ocf = ocf
        self.sync_flag = sync_flag
        self.sec_hdr = sec_hdr

    def __repr__(self):
        return "TmFrame(scid=%d vc=%d mc=%d vcc=%d fhp=0x%03X %d bytes)" % (
            self.scid,
            self.vcid,
            self.mc_count,
            self.vc_count,
            self.fhp,
            len(self.data),
        )

    def clcw(self):
        return None if self.ocf is None else Clcw.unpack(self.ocf)


def data_field_len(frame_len, has_ocf=True, has_fecf=True):
    n = frame_len - HEADER_LEN - (4 if has_ocf else 0) - (2 if has_fecf else 0)
    if n < 1 or frame_len > 2048:
        raise EncodeError("tmframe.length", "frame length %d leaves no data field" % frame_len)
    return n


def pack_into(buf, scid, vcid, mc_count, vc_count, fhp, data, ocf=None, has_fecf=True):
    """Write a frame of len(buf) bytes; data must fill the data field exactly."""
    if not 0 <= scid <= 0x3FF or not 0 <= vcid <= 7 or not 0 <= fhp <= 0x7FF:
        raise EncodeError("tmframe.header", "scid/vcid/fhp out of range: %r/%r/%r" % (scid, vcid, fhp))
    n = len(buf)
    dlen = data_field_len(n, ocf is not None, has_fecf)
    if len(data) != dlen:
        raise EncodeError("tmframe.data", "data field holds %d bytes, got %d" % (dlen, len(data)))
    struct.pack_into(
        ">HBBH",
        buf,
        0,
        scid << 4 | vcid << 1 | (1 if ocf is not None else 0),
        mc_count & 0xFF,
        vc_count & 0xFF,
        0x1800 | fhp,
    )
    buf[HEADER_LEN : HEADER_LEN + dlen] = data
    pos = HEADER_LEN + dlen
    if ocf is not None:
        buf[pos : pos + 4] = ocf
        pos += 4
    if has_fecf:
        c = crc16(memoryview(buf)[:pos])
        buf[pos] = c >> 8
        buf[pos + 1] = c & 0xFF


def pack(frame_len, scid, vcid, mc_count, vc_count, fhp, data, ocf=None, has_fecf=True):
    buf = bytearray(frame_len)
    pack_into(buf, scid, vcid, mc_count, vc_count, fhp, data, ocf, has_fecf)
    return bytes(buf)


def unpack(raw, has_fecf=True, frame_len=None):
    """Parse and check a frame (length, version, FECF); returns a TmFrame."""
    n = len(raw)
    if frame_len is not None and n != frame_len:
        raise LengthError("tmframe", 0, frame_len, n)
    if n < HEADER_LEN + (2 if has_fecf else 0) + 1:
        raise TruncatedError("tmframe.header", 0, HEADER_LEN + 3, n)
    end = n
    if has_fecf:  # checked first: any corruption, header included, is a CRC error
        got = (raw[n - 2] << 8) | raw[n - 1]
        want = crc16(memoryview(raw)[: n - 2])
        if got != want:
            raise CrcError("tmframe.fecf", n - 2, want, got)
        end -= 2
    w0, mc, vc, status = struct.unpack_from(">HBBH", raw, 0)
    if w0 >> 14:
        raise VersionError("tmframe.version", 0, 0, w0 >> 14)
    ocf = None
    if w0 & 1:
        if end - HEADER_LEN < 5:
            raise TruncatedError("tmframe.ocf", HEADER_LEN, 5, end - HEADER_LEN)
        ocf = bytes(raw[end - 4 : end])
        end -= 4
    if (status >> 11) & 3 != 3 and not status & 0x4000:
        raise FieldValueError("tmframe.segment_length_id", 4, "must be 11 when sync flag is 0")
    return TmFrame(
        (w0 >> 4) & 0x3FF,
        (w0 >> 1) & 7,
        mc,
        vc,
        status & 0x7FF,
        bytes(raw[HEADER_LEN:end]),
        ocf,
        (status >> 14) & 1,
        status >> 15,
    )


class TmFramer:
    """Packs space packets of one virtual channel into fixed-length frames.

    Packets may span frames; the first header pointer marks where the first packet
    header of each frame begins. `flush()` completes a partial frame with an idle
    packet; with nothing pending it makes an idle-only frame (FHP 0x7FE) so the
    downlink keeps its rhythm (and carries a fresh CLCW).
    """

    def __init__(self, frame_len, scid, vcid=0, has_ocf=True, has_fecf=True):
        self.frame_len = frame_len
        self.scid = scid
        self.vcid = vcid
        self.has_ocf = has_ocf
        self.has_fecf = has_fecf
        self.dlen = data_field_len(frame_len, has_ocf, has_fecf)
        self.mc_count = 0
        self.vc_count = 0
        self.clcw = Clcw(vcid=0) if has_ocf else None
        self._pending = bytearray()
        self._starts = []  # offsets in _pending where packets begin
        self._out = []
        self._idle_seq = 0

    def add_packet(self, packet):
        """Queue one space packet (bytes); returns the frames completed so far."""
        self._starts.append(len(self._pending))
        self._pending += packet
        while len(self._pending) >= self.dlen:
            self._emit()
        return self._take()

    def flush(self):
        """Complete the current frame (idle packet fill) or emit an idle frame."""
        if not self._pending:
            self._frame(bytes(self.dlen), FHP_IDLE)
            return self._take()
        room = self.dlen - len(self._pending)
        if room < sp.HEADER_LEN + 1:  # an idle packet needs 7 bytes: let it run into the next frame
            room += self.dlen
        self._starts.append(len(self._pending))
        self._pending += sp.idle_packet(room - sp.HEADER_LEN, self._idle_seq).pack()
        self._idle_seq = (self._idle_seq + 1) & 0x3FFF
        while self._pending:
            self._emit()
        return self._take()

    def _take(self):
        out = self._out
        self._out = []
        return out

    def _emit(self):
        dlen = self.dlen
        fhp = FHP_NO_PACKET_START
        for s in self._starts:
            if s < dlen:
                fhp = s
                break
        self._frame(bytes(self._pending[:dlen]), fhp)
        self._pending = self._pending[dlen:]
        self._starts = [s - dlen for s in self._starts if s >= dlen]

    def _frame(self, data, fhp):
        ocf = self.clcw.pack() if self.has_ocf else None
        self._out.append(
            pack(
                self.frame_len,
                self.scid,
                self.vcid,
                self.mc_count,
                self.vc_count,
                fhp,
                data,
                ocf,
                self.has_fecf,
            )
        )
        self.mc_count = (self.mc_count + 1) & 0xFF
        self.vc_count = (self.vc_count + 1) & 0xFF


class PacketExtractor:
    """Rebuilds space packets from the frames of one virtual channel.

    A gap in the VC frame count means frames were lost: the partial packet is
    dropped (counted in `dropped_partials`) and extraction resumes at the next
    frame's first header pointer. Idle packets (APID 0x7FF) are discarded.
    """

    def __init__(self, max_packet_len=4096 + sp.HEADER_LEN):
        self.max_packet_len = max_packet_len
        self._buf = bytearray()
        self._synced = False
        self._next_vc = None
        self.frames = 0
        self.lost_frames = 0
        self.dropped_partials = 0
        self.fhp_mismatches = 0
        self.idle_packets = 0
        self.packets = 0

    def feed(self, frame):
        """Take one TmFrame; return the list of complete packets (bytes) it finished."""
        self.frames += 1
        if self._next_vc is not None and frame.vc_count != self._next_vc:
            self.lost_frames += (frame.vc_count - self._next_vc) & 0xFF
            if self._buf:
                self.dropped_partials += 1
            self._buf = bytearray()
            self._synced = False
        self._next_vc = (frame.vc_count + 1) & 0xFF
        fhp = frame.fhp
        data = frame.data
        if fhp == FHP_IDLE:
            return []
        if not self._synced:
            if fhp == FHP_NO_PACKET_START or fhp >= len(data):
                return []
            self._synced = True
            self._buf = bytearray(data[fhp:])
        else:
            boundary = self._expected_boundary()
            if fhp != FHP_NO_PACKET_START and 0 <= boundary != fhp:
                # the running packet does not end where the frame says the next one starts
                self.fhp_mismatches += 1
                if self._buf:
                    self.dropped_partials += 1
                self._buf = bytearray(data[fhp:]) if fhp < len(data) else bytearray()
            else:
                self._buf += data
        return self._drain()

    def _expected_boundary(self):
        """Offset in the next data field where the buffered partial packet ends (0 if none)."""
        buf = self._buf
        pos = 0
        while len(buf) - pos >= sp.HEADER_LEN:
            total = ((buf[pos + 4] << 8) | buf[pos + 5]) + 1 + sp.HEADER_LEN
            if len(buf) - pos < total:
                return total - (len(buf) - pos)
            pos += total
        if len(buf) - pos == 0:
            return 0
        return -1  # header itself split: position unknown until more bytes arrive; accept any FHP

    def _drain(self):
        out = []
        buf = self._buf
        pos = 0
        while len(buf) - pos >= sp.HEADER_LEN:
            if buf[pos] & 0xE0:
                self.fhp_mismatches += 1
                self._synced = False
                buf = bytearray()
                pos = 0
                break
            total = ((buf[pos + 4] << 8) | buf[pos + 5]) + 1 + sp.HEADER_LEN
            if total > self.max_packet_len:
                self._synced = False
                buf = bytearray()
                pos = 0
                self.dropped_partials += 1
                break
            if len(buf) - pos < total:
                break
            apid = ((buf[pos] << 8) | buf[pos + 1]) & 0x7FF
            if apid == sp.APID_IDLE:
                self.idle_packets += 1
            else:
                out.append(bytes(buf[pos : pos + total]))
                self.packets += 1
            pos += total
        self._buf = buf[pos:]
        return out
