"""PUS-15 onboard packet stores: TM packets go to flash as they are made and are played back by
time or packet range at a commanded rate, so housekeeping made out of contact reaches the ground.

A store is a ring of `nseg` segment files `ps<store id>.<k>`, each at most `seg_bytes`. A record is
storage.frame_record (magic, length, payload, CRC-32) with payload = store sequence number u32 |
the TM packet, appended with one write: a power cut costs at most the packet being written, and
readers skip its torn bytes (storage.record_at). When the ring is full, a wrapping store deletes
its oldest segment (counted in `overwritten`); a stopping store refuses packets (`refused`) until
a delete frees a segment. RAM: one byte per segment (in use or not), nothing else: a segment's first
sequence number and time are read from flash when a command needs them, and playback reads one
record at a time.

A played-back packet is the stored one with its destination ID set to PLAYBACK_DEST + store id (and
its CRC made again), so the ground tells it from realtime and can merge the two.
"""

import struct

from flight.dictionary import FAIL, PACKET_STORES, PLAYBACK_DEST
from flight.errors import CommandError
from flight.storage import frame_record, record_at
from protocols import pus_1_verification as verification
from protocols.crc import crc16

try:
    from micropython import const
except ImportError:  # CPython
    from protocols._const import const


_T = const(17)  # payload offset of the packet's CUC coarse time: 4 (sequence) + 6 + 7 (PUS-C TM header)


_PLAYING = "ps_play"  # holds the store id while a playback runs (see PacketStoreService.boot)
_REC = bytearray(256)  # every store builds its record here: nothing allocated per packet


class PacketStore:
    # rarely changed fields as class defaults: an instance's attribute table holds only what it
    # set (a board's heap, flight/executive.py's Task)
    enabled = True
    overwritten = 0
    refused = 0
    errors = 0
    full = False
    dump = None  # [lo, hi, by_time, segment, offset, packets sent]

    def __init__(self, fs, sid, nseg, seg_bytes, wrap, on_full=None):
        self.fs = fs
        self.sid = sid
        self.seg_bytes = seg_bytes
        self.wrap = wrap
        self.on_full = on_full  # on_full(store id, packets lost): a segment overwritten or refusing
        self.used = bytearray(nseg)  # 1: the segment holds a record (RAM: nothing else per segment)
        self.cur = 0  # the segment being appended
        self.size = 0  # its bytes
        self.next_seq = 0
        self.last_t = 0
        best = -1
        for k in range(nseg):
            first = self.first(k)
            if first is not None:
                self.used[k] = 1
                if first[0] > best:
                    best, self.cur = first[0], k
        name = self._seg(self.cur)
        self.size = end = fs.size(name)
        off = 0
        while True:
            r = record_at(fs, name, off, end)
            if r is None:
                break
            seq, self.last_t = _key(r[0])
            self.next_seq = seq + 1
            off = r[1]

    def _seg(self, k):
        return "ps%d.%d" % (self.sid, k)

    def first(self, k):
        """(sequence number, time) of segment k's first record, read from flash; None: empty."""
        name = self._seg(k)
        r = record_at(self.fs, name, 0, self.fs.size(name))
        return None if r is None else _key(r[0])

    def order(self):
        """Non-empty segments, oldest first."""
        n = len(self.used)
        return [k for k in ((self.cur + i) % n for i in range(1, n + 1)) if self.used[k]]

    def _after(self, k):
        """First sequence number after segment k: the next segment's first, else the next to come."""
        nxt = (k + 1) % len(self.used)
        return self.first(nxt)[0] if self.used[nxt] and nxt != k else self.next_seq

    def oldest(self):
        o = self.order()
        return self.first(o[0]) if o else None

    def add(self, pkt, t):
        """Store one TM packet made at onboard time t (its CUC coarse time)."""
        if not self.enabled:
            return
        rec = frame_record(pkt, self.next_seq, _REC)
        lost = None
        try:
            if self.size and self.size + len(rec) > self.seg_bytes:
                nxt = (self.cur + 1) % len(self.used)
                if self.used[nxt]:
                    if not self.wrap:
                        self.refused += 1
                        if not self.full:
                            self.full = True  # before reporting: the report may come back here
                            if self.on_full:
                                self.on_full(self.sid, 0)
                        return
                    lost = self._overwrite(nxt)
                else:
                    self._drop(nxt)  # leftovers of a torn write, if any
                self.cur, self.size = nxt, 0
            try:
                self.fs.append(self._seg(self.cur), rec)
            except OSError:
                # the filesystem filled before the store did: a wrapping store makes room as when
                # it is full, then writes again
                o = self.order()
                if not self.wrap or not o or o[0] == self.cur:
                    raise
                lost = (lost or 0) + self._overwrite(o[0])
                self.fs.append(self._seg(self.cur), rec)
                self.size = self.fs.size(self._seg(self.cur)) - len(rec)  # with any torn bytes
        except OSError:
            self.errors += 1  # a failing filesystem loses this packet, not the flight software
            self.size = self.fs.size(self._seg(self.cur))
            return
        self.used[self.cur] = 1
        self.size += len(rec)
        self.next_seq += 1
        self.last_t = t
        self.full = False
        if lost is not None and self.on_full:
            self.on_full(self.sid, lost)  # after the store is consistent: the report is stored too

    def _overwrite(self, k):
        """Drop segment k, the oldest, to make room; returns how many packets went."""
        lost = self._after(k) - self.first(k)[0]
        self.overwritten += lost
        if self.dump is not None and self.dump[3] == k:
            self.dump[3], self.dump[4] = (k + 1) % len(self.used), 0  # its part is gone
        self._drop(k)
        return lost

    def _drop(self, k):
        self.fs.remove(self._seg(k))
        self.used[k] = 0

    def packets(self):
        first = self.oldest()
        return self.next_seq - first[0] if first else 0

    def delete_to(self, t):
        """Delete the oldest segments whose packets are all at or before time t; returns how many
        packets went (a segment is deleted whole: packets after t always stay)."""
        gone = 0
        o = self.order()
        for i in range(len(o) - 1):  # never the segment being appended
            k, after = self.first(o[i]), self.first(o[i + 1])
            if after[1] > t + 1:  # segment o[i]'s last packet may be later than t
                break
            gone += after[0] - k[0]
            if self.dump is not None and self.dump[3] == o[i]:
                self.dump[3], self.dump[4] = o[i + 1], 0
            self._drop(o[i])
        return gone

    def start_dump(self, lo, hi, by_time):
        """Play back packets whose time (by_time) or sequence number lies in [lo, hi]."""
        o = self.order()
        start = o[0] if o else self.cur
        for k in o[1:]:  # skip the segments that end before lo
            if self.first(k)[1 if by_time else 0] > lo:
                break
            start = k
        self.dump = [lo, hi, by_time, start, 0, 0]

    def next_playback(self):
        """The next packet of the running dump, marked as playback; None when the dump is done."""
        d = self.dump
        while d is not None:
            k = d[3]
            name = self._seg(k)
            r = None
            if self.used[k]:
                r = record_at(self.fs, name, d[4], self.size if k == self.cur else self.fs.size(name))
            if r is None:
                if k == self.cur:
                    return None
                d[3], d[4] = (k + 1) % len(self.used), 0
                continue
            payload, d[4] = r
            seq, t = _key(payload)
            key = t if d[2] else seq
            if key > d[1]:
                return None
            if key < d[0]:
                continue
            d[5] += 1
            pkt = bytearray(memoryview(payload)[4:])
            struct.pack_into(">H", pkt, 11, PLAYBACK_DEST + self.sid)
            c = crc16(memoryview(pkt)[:-2])
            pkt[-2] = c >> 8
            pkt[-1] = c & 0xFF
            return pkt
        return None

    def recent(self, segments=2):
        """The packets of the last `segments` segments, oldest first, one at a time."""
        for k in self.order()[-segments:]:
            name = self._seg(k)
            end = self.size if k == self.cur else self.fs.size(name)
            off = 0
            while True:
                r = record_at(self.fs, name, off, end)
                if r is None:
                    break
                payload, off = r
                yield payload[4:]

    def summary(self):
        """This store as an entry of the TM(15,13) report (protocols/pus_15_storage.py FIELDS)."""
        o = self.order()
        first = self.oldest() or (self.next_seq, 0)
        return (
            self.sid,
            self.enabled,
            self.wrap,
            self.dump is not None,
            self.next_seq - first[0],
            first[0],
            self.next_seq,
            first[1],
            self.last_t,
            self.size + sum(self.fs.size(self._seg(k)) for k in o if k != self.cur),
            self.overwritten + self.refused,
        )


def _key(payload):
    """(store sequence number, packet time) of a record's payload."""
    return struct.unpack_from(">I", payload, 0)[0], struct.unpack_from(">I", payload, _T)[0]


_R_PLAYBACK_BUSY = const(23)  # a failure reason: a number onboard, named in the ground dictionary


class PacketStoreService:
    """PUS service 15 over the stores of flight/dictionary.py PACKET_STORES: keeps every TM packet
    of a stored service as it is made, runs one playback at a time, paced so that realtime
    telemetry keeps its place in the downlink queue, and runs its own telecommands (a component)."""

    def __init__(self, fs, report):
        self.fs = fs
        self.report = report  # events.report
        self.stores = {}
        self._by_service = {}
        for sid, (_name, service, nseg, seg_bytes, wrap) in PACKET_STORES.items():
            st = PacketStore(fs, sid, nseg, seg_bytes, wrap, self._full)
            self.stores[sid] = st
            self._by_service[service] = st
        self.playing = None  # the store whose playback runs
        self.rate = 1  # its packets per second

    def _full(self, sid, lost):
        self.report("STORE_FULL", sid, lost)

    def keep(self, service, pkt):
        """Called for every TM packet made onboard (not for played-back ones)."""
        st = self._by_service.get(service)
        if st is not None:
            st.add(pkt, struct.unpack_from(">I", pkt, _T - 4)[0])

    def repeat_reports(self, apid, seq, emit):
        """Emit again the verification reports of request (apid, seq) that the last segments of
        the verification store hold (TC 1,128, when the downlink lost them); False: none there."""
        st = self._by_service.get(verification.SERVICE)
        found = []
        for pkt in st.recent() if st is not None else ():
            pid, psc = struct.unpack_from(">HH", pkt, 19)  # the request id opens the source data
            if pid & 0x7FF == apid and psc & 0x3FFF == seq:
                found.append(pkt)
        for pkt in found:  # after reading: the reports made now go into the same store
            emit(verification.SERVICE, pkt[8], pkt[19:-2])
        return bool(found)

    def task(self, queue, room):
        """Once a second: up to `rate` played-back packets onto the TM queue while it holds fewer
        than `room` packets (realtime first: playback waits while the downlink is behind)."""
        st = self.playing
        for _ in range(self.rate if st is not None else 0):
            if len(queue) >= room:
                return
            pkt = st.next_playback()
            if pkt is None:
                self._end(0)
                return
            queue.append(pkt)

    def _end(self, status):
        st = self.playing
        sent = st.dump[5]
        st.dump = None
        self.playing = None
        self.fs.remove(_PLAYING)
        self.report("PLAYBACK_DONE", st.sid, sent, 1 if status == 0 and not sent else status)

    def boot(self):
        """After the BOOT event: a playback that a reset cut short is reported (PLAYBACK_DONE with
        status 3; what it had sent is not known), so the ground plans its dumps again."""
        cut = self.fs.read_at(_PLAYING, 0, 1)
        if cut:
            self.fs.remove(_PLAYING)
            self.report("PLAYBACK_DONE", cut[0], 0, 3)

    # --- commands: a component (flight/commands.py); `app`, set by the wiring, emits the reports
    def tc_check(self, name, v):
        if name[:10] == "store_dump" and self.playing is not None:
            raise CommandError(
                FAIL["INTERLOCK"], "store %d is playing back" % self.playing.sid, _R_PLAYBACK_BUSY
            )

    def tc_verification_query(self, v):
        if not self.repeat_reports(v[0], v[1], self.app.emit):
            raise CommandError(FAIL["UNKNOWN_ID"], "no recent request %d/%d" % (v[0], v[1]))

    def tc_store_enable(self, v):
        self.stores[v[0]].enabled = True

    def tc_store_disable(self, v):
        self.stores[v[0]].enabled = False

    def tc_store_dump(self, v, by_time=True):
        self.fs.remove(_PLAYING)  # a marker in flash: a reset from here on is reported
        self.fs.append(_PLAYING, bytes((v[0],)))
        self.rate = v[3]
        self.playing = self.stores[v[0]]
        self.playing.start_dump(v[1], v[2], by_time)

    def tc_store_dump_seq(self, v):
        self.tc_store_dump(v, False)

    def tc_store_abort(self, v):
        if self.playing is self.stores[v[0]]:
            self._end(2)

    def tc_store_delete(self, v):
        self.stores[v[0]].delete_to(v[1])

    def tc_store_summary(self, v):
        sel = [st for sid, st in self.stores.items() if v[0] in (0, sid)]
        self.app.report_once("pus_15_storage", [st.summary() for st in sel])
