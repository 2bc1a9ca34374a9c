"""CCSDS 132.0-B virtual channel packet service, receive side: rebuilding space packets from the
TM frames of one virtual channel (the ground's; a board builds frames and never loads this).

Feed it the frames protocols.tmframe.unpack decoded (protocols/tmframe_rx.py)."""

from protocols import spacepacket as sp
from protocols.tmframe import FHP_IDLE, FHP_NO_PACKET_START


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
